// The canvas page's header: name, live status, validation summary, who is here, tools, panels, Run,
// then the workspace switcher and the account menu.
import type { Validation } from '../api/types'
import type { Peer } from '../collab/usePresence'
import { Faces } from './Presence'
import { Icon } from './icons'
import { AccountMenu } from '../teams/AccountMenu'
import { WorkspaceSwitcher } from '../teams/WorkspaceSwitcher'

export type Panel = 'runs' | 'versions' | 'triggers' | null
export type CollabBadge = 'live' | 'reconnecting' | 'connecting' | 'refused'

interface Props {
  name: string
  setName: (n: string) => void
  onRename: (n: string) => void
  readOnly: boolean
  status: CollabBadge
  refusal: string | null
  validation: Validation | null
  peers: Peer[]
  me: { name: string; color: string }
  undo: { canUndo: boolean; canRedo: boolean; undo: () => void; redo: () => void }
  panel: Panel
  setPanel: (p: Panel) => void
  latestVersion: number | null
  actions: { layout: () => void; fit: () => void; addNote: () => void; help: () => void; run: () => void }
}

const STATUS_TEXT: Record<CollabBadge, string> = { live: 'Live', reconnecting: 'Reconnecting…', connecting: 'Connecting… read-only', refused: 'Read-only' }
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`

export function TopBar(p: Props) {
  const errors = p.validation?.error_count ?? 0
  const warnings = p.validation?.warning_count ?? 0
  const toggle = (x: Panel) => p.setPanel(p.panel === x ? null : x)
  return (
    <header className="topbar">
      <a className="icon-btn" href="/" data-testid="back-to-list" title="All workflows"><Icon name="back" /></a>
      <input className="name-input" value={p.name} disabled={p.readOnly} data-testid="workflow-name" aria-label="Workflow name"
        onChange={(e) => p.setName(e.target.value)} onBlur={(e) => p.onRename(e.target.value)}
        onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()} />
      <span className={`collab-status ${p.status}`} data-testid="collab-status" data-status={p.status} title={p.refusal ?? undefined}>
        <span className="dot" />{STATUS_TEXT[p.status]}{p.status === 'refused' && p.refusal ? ` (${p.refusal})` : ''}
      </span>
      {p.validation && (
        <span className={`validity ${errors ? 'bad' : 'ok'}`} data-testid="validation-summary">
          {errors ? plural(errors, 'error') : 'Valid'}
          {warnings > 0 && <span className="warn-count"> · {plural(warnings, 'warning')}</span>}
        </span>
      )}
      <div className="grow" />
      <Faces peers={p.peers} me={p.me} />
      <div className="btn-group">
        <button className="icon-btn" onClick={p.undo.undo} disabled={!p.undo.canUndo} title="Undo (Ctrl+Z)" data-testid="undo"><Icon name="undo" /></button>
        <button className="icon-btn" onClick={p.undo.redo} disabled={!p.undo.canRedo} title="Redo (Ctrl+Shift+Z)" data-testid="redo"><Icon name="redo" /></button>
        <button className="icon-btn" onClick={p.actions.layout} disabled={p.readOnly} title="Auto-layout (Shift+L)" data-testid="auto-layout"><Icon name="layout" /></button>
        <button className="icon-btn" onClick={p.actions.fit} title="Zoom to fit (Shift+1)" data-testid="zoom-fit"><Icon name="fit" /></button>
        <button className="icon-btn" onClick={p.actions.addNote} disabled={p.readOnly} title="Sticky note (N)" data-testid="add-note"><Icon name="note" /></button>
        <button className="icon-btn" onClick={p.actions.help} title="Shortcuts (?)" data-testid="help-button"><Icon name="help" /></button>
      </div>
      <button className={`btn${p.panel === 'triggers' ? ' on' : ''}`} onClick={() => toggle('triggers')} data-testid="triggers-button"
        aria-expanded={p.panel === 'triggers'} title="Schedules, webhooks and chains">
        <Icon name="clock" /> Triggers
      </button>
      <button className={`btn${p.panel === 'versions' ? ' on' : ''}`} onClick={() => toggle('versions')} data-testid="versions-button">
        <Icon name="tag" /> Versions{p.latestVersion ? ` (v${p.latestVersion})` : ''}
      </button>
      <button className={`btn${p.panel === 'runs' ? ' on' : ''}`} onClick={() => toggle('runs')} data-testid="runs-button">
        <Icon name="history" /> Runs
      </button>
      <button className="btn primary" onClick={p.actions.run} disabled={p.readOnly} data-testid="run-button" title="Run (Ctrl+Enter)">
        <Icon name="play" /> Run
      </button>
      <WorkspaceSwitcher />
      <AccountMenu />
    </header>
  )
}
