// One workflow node on the canvas: header, typed ports, validation badge, run state, remote selection.
import { memo, useEffect, useRef } from 'react'
import { Handle, Position, useStore, useUpdateNodeInternals, type Node, type NodeProps, type ReactFlowState } from '@xyflow/react'
import type { NodeStatus, Port } from '../api/types'
import { Icon, categoryColor } from './icons'
import { ERROR_PORT } from './ports'

export interface RunBadge { status: NodeStatus; attempts: number; ms: number | null; iterations: number }

export type FlowNodeData = {
  label: string
  type: string
  title: string
  icon: string
  category: string
  known: boolean
  inputs: Port[]
  outputs: Port[]
  errors: string[]
  warnings: string[]
  /** Its output is pinned in the draft (test runs use the pin instead of executing it). */
  pinned: boolean
  run: RunBadge | null
  remote: { name: string; color: string }[] // other people who selected this node
  draggedBy: string | null
  portLabels: Record<string, string> // e.g. a switch's case labels
}
export type FlowNodeT = Node<FlowNodeData, 'flow'>

/**
 * Below this zoom a node drops its small print: the icon's drawing, the type and id line, port names and types.
 * At 0.45 that 11 px text is under 5 px on screen, and it was 8 of a node's 21 DOM elements: a 500-node workflow
 * opens zoomed out to fit (about 0.2), where all of it was drawn for nothing. Label, problems, run state,
 * co-editors' marks and every port handle stay, and the node keeps its size (fixed line heights in
 * styles.css), so edges do not move when the detail comes and goes.
 */
export const COMPACT_BELOW_ZOOM = 0.45
const zoomedOut = (s: ReactFlowState) => s.transform[2] < COMPACT_BELOW_ZOOM

const fmtMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60000)} min`)
const STATE_LABEL: Record<string, string> = { queued: 'Queued', running: 'Running', succeeded: 'Done', failed: 'Failed', skipped: 'Skipped', cancelled: 'Cancelled', waiting: 'Waiting' }

function FlowNodeView({ id, data, selected }: NodeProps<FlowNodeT>) {
  const color = categoryColor(data.category)
  const ring = data.remote[0]?.color
  const rows = Math.max(data.inputs.length, data.outputs.length, 1)
  const compact = useStore(zoomedOut)
  // a switch's ports follow its cases (ports.ts): React Flow measures the handles again when they change
  const updateInternals = useUpdateNodeInternals()
  const portKey = data.outputs.map((p) => p.name).join(',')
  const drawnPorts = useRef(portKey)   // not on mount: 500 nodes opening measure once, as before
  useEffect(() => {
    if (drawnPorts.current !== portKey) { drawnPorts.current = portKey; updateInternals(id) }
  }, [portKey])
  return (
    <div
      className={`flow-node${compact ? ' compact' : ''}${selected ? ' selected' : ''}${data.errors.length ? ' has-errors' : ''}${data.run ? ` run-${data.run.status}` : ''}`}
      style={ring ? { boxShadow: `0 0 0 3px ${ring}55, 0 0 0 1.5px ${ring}` } : undefined}
      data-testid={`node-${id}`} data-type={data.type} data-status={data.run?.status ?? ''}
      title={data.errors.concat(data.warnings).join('\n') || undefined}
    >
      <div className="flow-node-head">
        <span className="flow-node-icon" style={{ background: color }}>{!compact && <Icon name={data.icon} size={14} />}</span>
        <div className="flow-node-titles">
          <div className="flow-node-label" data-testid={`node-label-${id}`}>{data.label || data.title}</div>
          {!compact && <div className="flow-node-type">{data.known ? data.title : `${data.type} (unknown)`} · <span className="mono">{id}</span></div>}
        </div>
        {data.pinned && <span className="pin-badge" data-testid={`node-pin-${id}`} title="Output pinned: test runs use the pinned data" role="img" aria-label="pinned"><Icon name="pin" size={12} /></span>}
        {(data.errors.length > 0 || data.warnings.length > 0) && (
          <span className={`problem-badge ${data.errors.length ? 'error' : 'warning'}`} data-testid={`node-problems-${id}`}
            title={data.errors.concat(data.warnings).join('\n')}>
            {data.errors.length || data.warnings.length}
          </span>
        )}
      </div>
      <div className="flow-node-ports" style={{ minHeight: rows * 22 }}>
        <div className="ports-in">
          {data.inputs.map((p) => (
            <div className="port port-in" key={p.name} title={`${p.name}: ${p.type}${p.multiple ? ' (many)' : ''}`}>
              <Handle type="target" position={Position.Left} id={p.name} data-testid={`port-${id}-in-${p.name}`}
                className={`handle type-${p.type}`} />
              {!compact && <><span>{p.name}</span><em>{p.type}</em></>}
            </div>
          ))}
        </div>
        <div className="ports-out">
          {data.outputs.map((p) => (
            <div className={`port port-out${p.name === ERROR_PORT ? ' port-error' : ''}`} key={p.name}
              title={p.name === ERROR_PORT ? 'error: where a failure goes (on error: branch)' : `${p.name}: ${p.type}${p.each ? ' (per item)' : ''}`}>
              {!compact && <><em>{p.type}</em><span>{data.portLabels[p.name] || p.name}</span></>}
              <Handle type="source" position={Position.Right} id={p.name} data-testid={`port-${id}-out-${p.name}`}
                className={`handle type-${p.type}${p.name === ERROR_PORT ? ' handle-error' : ''}`} />
            </div>
          ))}
        </div>
      </div>
      {data.run && (
        <div className={`node-state state-${data.run.status}`} data-testid={`node-state-${id}`} data-status={data.run.status}>
          <span className="dot" />{STATE_LABEL[data.run.status] ?? data.run.status}
          {data.run.ms !== null && <span className="muted">{fmtMs(data.run.ms)}</span>}
          {data.run.attempts > 1 && <span className="muted" data-testid={`node-attempts-${id}`}>{data.run.attempts} attempts</span>}
          {data.run.iterations > 1 && <span className="muted">×{data.run.iterations}</span>}
        </div>
      )}
      {data.remote.length > 0 && (
        <div className="remote-tags">
          {data.remote.map((r, i) => <span key={i} style={{ background: r.color }}>{r.name}</span>)}
        </div>
      )}
      {data.draggedBy && <div className="dragged-by">{data.draggedBy} is moving this</div>}
    </div>
  )
}

export const FlowNode = memo(FlowNodeView)
