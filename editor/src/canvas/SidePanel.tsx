// The node panel: header (id, test runs), then the node's three parts: input (what arrives, from pins or the
// last run, fields drag onto config fields), config (the form; its text fields are expression editors) and
// output (pinned data or the last output, pinning). "Expand" lays the parts side by side.
import { useMemo, useRef, useState } from 'react'
import { api } from '../api/client'
import type { Graph, GraphNode, NodeRun, NodeType, Problem } from '../api/types'
import { SchemaForm, type FieldErrors } from '../forms/SchemaForm'
import { ExpressionContext, type ExpressionTools } from '../forms/expressions'
import { TextInput } from '../forms/inputs'
import type { Ops } from '../collab/ops'
import { InputPart } from '../panel/InputPart'
import { OutputPart } from '../panel/OutputPart'
import { NodeIdField } from '../panel/NodeIdField'
import { usePanelData } from '../panel/usePanelData'
import { loopOf, upstreamOf } from '../panel/upstream'
import { itemSample } from '../panel/loopItem'
import { declaredKeys, isTruncated } from '../panel/paths'
import type { Pin } from '../panel/pins'
import { Icon, categoryColor } from './icons'

interface Props {
  workflowId: string
  graph: Graph
  node: GraphNode
  spec: NodeType | undefined
  specOf: (n: GraphNode | undefined) => NodeType | undefined
  ops: Ops | null
  readOnly: boolean
  problems: Problem[]
  fieldErrors: FieldErrors
  nodeRuns: NodeRun[] | null
  /** Changes whenever the run shown on the canvas changes state: the panel reads its data again. */
  refreshKey: string
  /** Re-run the shown run from this node, reusing its upstream outputs (a run that ended). */
  onRunFromHere?: () => void
  /** Execute this node alone, or run the path up to it (backend/panel/testruns.py). */
  onTestRun?: (mode: 'node' | 'to_here') => void
  onRenamed?: (id: string) => void
  onClose: () => void
}

export function SidePanel(p: Props) {
  const { node, spec, ops, readOnly, problems, fieldErrors, nodeRuns, onRunFromHere, onClose } = p
  const hasRun = !!nodeRuns && nodeRuns.length > 0
  const [tab, setTab] = useState<'config' | 'run'>(hasRun ? 'run' : 'config')
  const [wide, setWide] = useState(false)
  const active = tab === 'run' && nodeRuns ? 'run' : 'config'
  const general = problems.filter((x) => !/^\/nodes\/\d+\/config\//.test(x.pointer))
  const sources = useMemo(() => upstreamOf(p.graph, node.id), [p.graph, node.id])
  const data = usePanelData(p.workflowId, [node.id, ...sources.map((s) => s.id)], p.refreshKey)
  const byId = useMemo(() => new Map(p.graph.nodes.map((n) => [n.id, n])), [p.graph])
  const outputsOf = (id: string) => {
    const pin = byId.get(id)?.pin as Pin | undefined
    if (pin) return { ports: pin, pinned: true }
    const row = data?.nodes[id]
    const out = row?.status === 'succeeded' && row.output && typeof row.output === 'object' && !isTruncated(row.output) ? row.output as Record<string, unknown> : null
    return { ports: out, pinned: false }
  }
  const lastField = useRef<((e: string) => void) | null>(null)
  const tools = useMemo<ExpressionTools>(() => {
    const primary = (id: string) => { const ports = outputsOf(id).ports; return ports ? Object.values(ports)[0] : undefined }
    const trig = sources.find((s) => p.specOf(byId.get(s.id))?.trigger)
    const direct = sources.filter((s) => s.direct)
    const trigger = trig ? primary(trig.id) : data?.trigger
    const loop = loopOf(p.graph, node.id, p.specOf)
    return {
      scope: {
        nodes: sources.map((s) => {
          const n = byId.get(s.id)
          return { id: s.id, label: n?.label || p.specOf(n)?.title || s.id, data: primary(s.id), declared: declaredKeys(p.specOf(n)?.outputs[0]?.description) }
        }),
        trigger,
        input: direct.length ? outputsOf(direct[0].id).ports?.[direct[0].port] : undefined,
        inLoop: loop !== null,
        item: loop && itemSample({ graph: p.graph, loop, specOf: p.specOf, data, outputsOf: (id) => outputsOf(id).ports, trigger }),
      },
      preview: (text) => api.preview(p.workflowId, text, node.id),
      lastField,
    }
  }, [sources, data, byId, node.id, p.workflowId]) // eslint-disable-line react-hooks/exhaustive-deps
  const pinned = !!node.pin

  return (
    <aside className={`side-panel${wide ? ' wide' : ''}`} data-testid="side-panel" aria-label="Node panel" data-node-id={node.id} data-loaded={data ? 'true' : 'false'}>
      <header>
        <span className="flow-node-icon" style={{ background: categoryColor(spec?.category ?? '') }}><Icon name={spec?.icon ?? 'box'} size={14} /></span>
        <div className="grow">
          <div className="side-title">{spec?.title ?? node.type}</div>
          <NodeIdField node={node} graph={p.graph} readOnly={readOnly} ops={ops} onRenamed={p.onRenamed} />
        </div>
        <button className="icon-btn" onClick={() => setWide(!wide)} title={wide ? 'Narrow panel' : 'Expand: input, settings and output side by side'}
          aria-pressed={wide} data-testid="panel-expand"><Icon name={wide ? 'minimize' : 'maximize'} /></button>
        <button className="icon-btn" onClick={onClose} title="Close (Esc)" data-testid="side-panel-close"><Icon name="x" /></button>
      </header>
      {p.onTestRun && !readOnly && spec && (
        <div className="panel-actions">
          <button className="btn small primary" data-testid="execute-node" onClick={() => p.onTestRun!('node')}
            title="Run this node alone; its inputs come from pinned data or the last run">Execute node</button>
          <button className="btn small" data-testid="run-to-here" onClick={() => p.onTestRun!('to_here')}
            title="Run every node on the path up to this one">Run to here</button>
          {pinned && <span className="tag pin-tag" title="This node's output is pinned">pinned</span>}
        </div>
      )}
      {/* viewers (and anyone before the live sync) read plain fields: no previews, completions or drops */}
      <ExpressionContext.Provider value={readOnly ? null : tools}>
        <div className="panel-parts">
          <InputPart graph={p.graph} sources={sources} specOf={p.specOf} outputsOf={outputsOf} />
          <section className="panel-part panel-config" aria-label="Settings">
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
                  {general.map((x, i) => (
                    <div key={i} className={`problem ${x.severity}`} data-testid="node-problem">{x.message}</div>
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
          </section>
          <OutputPart nodeId={node.id} isTrigger={!!spec?.trigger} outputs={spec?.outputs ?? []} pin={node.pin as Pin | undefined}
            last={data?.nodes[node.id]} readOnly={readOnly} setPin={(pin) => ops?.setPin(node.id, pin)} />
        </div>
      </ExpressionContext.Provider>
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
