// The canvas's Triggers panel: schedules, webhooks, chains and the MCP tool setting of this workflow. Editors and owners change them,
// viewers read them; co-editors' panels follow each change (useTriggerSignal).
import { useEffect, useRef, useState } from 'react'
import type { WebsocketProvider } from 'y-websocket'
import { Icon } from '../canvas/icons'
import { ChainsSection } from './ChainsSection'
import { ErrorWorkflowSection } from './ErrorWorkflowSection'
import { McpSection } from './McpSection'
import { SchedulesSection } from './SchedulesSection'
import { WebhooksSection } from './WebhooksSection'
import { useTriggerSignal } from './useTriggerSignal'

type Tab = 'schedules' | 'webhooks' | 'chains' | 'mcp'
const TABS: { value: Tab; label: string }[] = [{ value: 'schedules', label: 'Schedules' }, { value: 'webhooks', label: 'Webhooks' }, { value: 'chains', label: 'Chains & errors' }, { value: 'mcp', label: 'MCP' }]

interface Props { workflowId: string; provider: WebsocketProvider | undefined; canEdit: boolean; onClose: () => void }

export function TriggersPanel({ workflowId, provider, canEdit, onClose }: Props) {
  const [tab, setTab] = useState<Tab>('schedules')
  const { stamp, signal } = useTriggerSignal(provider)
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => { heading.current?.focus() }, []) // opened from the top bar: the keyboard lands in the panel
  const props = { workflowId, canEdit, stamp, changed: signal }
  return (
    <aside className="side-panel triggers-panel" data-testid="triggers-panel" aria-labelledby="triggers-title">
      <header>
        <h2 id="triggers-title" className="grow side-title" tabIndex={-1} ref={heading}>Triggers</h2>
        <button className="icon-btn" onClick={onClose} title="Close (Esc)" aria-label="Close triggers" data-testid="triggers-panel-close"><Icon name="x" /></button>
      </header>
      <div className="tabs" role="group" aria-label="Trigger kind">
        {TABS.map((t) => (
          <button key={t.value} type="button" className={tab === t.value ? 'on' : ''} aria-pressed={tab === t.value}
            onClick={() => setTab(t.value)} data-testid={`triggers-tab-${t.value}`}>{t.label}</button>
        ))}
      </div>
      <div className="side-body">
        {!canEdit && <p className="muted small" data-testid="triggers-read-only">You can see this workflow's triggers; editors and owners change them.</p>}
        {tab === 'schedules' && <SchedulesSection {...props} />}
        {tab === 'webhooks' && <WebhooksSection {...props} />}
        {tab === 'chains' && <ChainsTab {...props} />}
        {tab === 'mcp' && <McpSection {...props} />}
      </div>
    </aside>
  )
}

// The error workflow and the chain list show the same chains: a change in one reloads the other.
function ChainsTab({ stamp, changed, ...rest }: { workflowId: string; canEdit: boolean; stamp: number; changed: () => void }) {
  const [mine, setMine] = useState(0)
  const props = { ...rest, stamp: stamp + mine, changed: () => { setMine((n) => n + 1); changed() } }
  return <><ErrorWorkflowSection {...props} /><ChainsSection {...props} /></>
}
