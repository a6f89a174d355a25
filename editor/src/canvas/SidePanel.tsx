// The selected node: label, config form (from its config_schema), problems, and its last run's data.
import { useState } from 'react'
import type { GraphNode, NodeRun, NodeType, Problem } from '../api/types'
import { SchemaForm, type FieldErrors } from '../forms/SchemaForm'
import { TextInput } from '../forms/inputs'
import type { Ops } from '../collab/ops'
import { Icon, categoryColor } from './icons'

interface Props {
  node: GraphNode
  spec: NodeType | undefined
  ops: Ops | null
  readOnly: boolean
  problems: Problem[]
  fieldErrors: FieldErrors
  nodeRuns: NodeRun[] | null
  /** Re-run the shown run from this node, reusing its upstream outputs (a run that ended). */
  onRunFromHere?: () => void
  onClose: () => void
}

export function SidePanel({ node, spec, ops, readOnly, problems, fieldErrors, nodeRuns, onRunFromHere, onClose }: Props) {
  const hasRun = !!nodeRuns && nodeRuns.length > 0
  const [tab, setTab] = useState<'config' | 'run'>(hasRun ? 'run' : 'config')
  const active = tab === 'run' && nodeRuns ? 'run' : 'config'
  const general = problems.filter((p) => !/^\/nodes\/\d+\/config\//.test(p.pointer))
  return (
    <aside className="side-panel" data-testid="side-panel">
      <header>
        <span className="flow-node-icon" style={{ background: categoryColor(spec?.category ?? '') }}><Icon name={spec?.icon ?? 'box'} size={14} /></span>
        <div className="grow">
          <div className="side-title">{spec?.title ?? node.type}</div>
          <div className="muted small mono">{node.id} · {node.type} v{node.type_version}</div>
        </div>
        <button className="icon-btn" onClick={onClose} title="Close (Esc)" data-testid="side-panel-close"><Icon name="x" /></button>
      </header>
      <div className="tabs">
        <button className={active === 'config' ? 'on' : ''} onClick={() => setTab('config')} data-testid="tab-config">Settings</button>
        <button className={active === 'run' ? 'on' : ''} disabled={!nodeRuns} onClick={() => setTab('run')} data-testid="tab-run">
          Last run{hasRun ? '' : nodeRuns ? ' (did not run)' : ''}
        </button>
      </div>
      <div className="side-body">
        {active === 'config' ? (
          <>
            {spec?.description && <p className="muted small">{spec.description}</p>}
            <div className="field">
              <label className="field-label" id="node-label-label">Label</label>
              <TextInput value={node.label ?? ''} disabled={readOnly} testId="node-label-input" placeholder={spec?.title} labelledBy="node-label-label"
                onCommit={(t) => ops?.setLabel(node.id, t)} />
            </div>
            {general.map((p, i) => (
              <div key={i} className={`problem ${p.severity}`} data-testid="node-problem">{p.message}</div>
            ))}
            {spec ? (
              <SchemaForm schema={spec.config_schema} value={node.config} errors={fieldErrors} disabled={readOnly}
                onChange={(path, value) => ops?.setConfigPath(node.id, path, value)}
                read={ops ? (path) => ops.configAt(node.id, path) : undefined} />
            ) : <p className="problem error">Unknown node type: its settings cannot be edited.</p>}
          </>
        ) : (
          <>
            {hasRun && onRunFromHere && nodeRuns!.some((r) => r.status !== 'skipped' && r.status !== 'queued') &&
              <button className="btn small" data-testid="run-from-here" onClick={onRunFromHere}
                title="Run this node and everything after it again, reusing the earlier nodes' outputs">Run from here</button>}
            <RunData runs={nodeRuns ?? []} />
          </>
        )}
      </div>
    </aside>
  )
}

function RunData({ runs }: { runs: NodeRun[] }) {
  if (!runs.length) return <p className="muted small">This node did not run.</p>
  return (
    <div data-testid="node-run-data">
      {runs.map((r, i) => (
        <div key={i} className="run-data">
          <div className="run-data-head">
            <span className={`pill state-${r.status}`}>{r.status}</span>
            {r.iteration !== null && <span className="muted small">item {r.iteration}</span>}
            <span className="muted small">{r.attempts} attempt{r.attempts === 1 ? '' : 's'}</span>
          </div>
          {r.error != null && <><h5>Error</h5><pre className="json error" data-testid="node-run-error">{JSON.stringify(r.error, null, 2)}</pre></>}
          <h5>Input</h5><pre className="json" data-testid="node-run-input">{JSON.stringify(r.input, null, 2)}</pre>
          <h5>Output</h5><pre className="json" data-testid="node-run-output">{JSON.stringify(r.output, null, 2)}</pre>
        </div>
      ))}
    </div>
  )
}
