// Connecting ports without a mouse (press C with a node selected): pick one of its output ports, the node to
// connect to and that node's input port. The same rules as dragging apply (refuseReason); the reason a
// connection is refused shows in the dialog.
import { useMemo, useState } from 'react'
import type { Connection } from '@xyflow/react'
import type { GraphNode, NodeType } from '../api/types'
import { Dialog } from '../ui/Dialog'

interface Props {
  source: GraphNode
  nodes: GraphNode[]
  specOf: (n: GraphNode | undefined) => NodeType | undefined
  refuseReason: (c: Connection) => string | null
  onConnect: (c: Connection) => void
  onClose: () => void
}

const nameOf = (n: GraphNode, spec: NodeType | undefined) => `${n.label || spec?.title || n.type} (${n.id})`

export function ConnectDialog({ source, nodes, specOf, refuseReason, onConnect, onClose }: Props) {
  const outputs = specOf(source)?.outputs ?? []
  const targets = useMemo(() => nodes.filter((n) => n.id !== source.id && (specOf(n)?.inputs.length ?? 0) > 0), [nodes, source, specOf])
  const [port, setPort] = useState(outputs[0]?.name ?? '')
  const [target, setTarget] = useState(targets[0]?.id ?? '')
  const inputs = specOf(nodes.find((n) => n.id === target))?.inputs ?? []
  const [input, setInput] = useState(inputs[0]?.name ?? '')
  const targetPort = inputs.some((p) => p.name === input) ? input : inputs[0]?.name ?? ''
  const c: Connection = { source: source.id, sourceHandle: port, target, targetHandle: targetPort }
  const refusal = target && port && targetPort ? refuseReason(c) : 'Nothing to connect to'
  return (
    <Dialog title={`Connect ${nameOf(source, specOf(source))}`} onClose={onClose} testId="connect-dialog">
      <form onSubmit={(e) => { e.preventDefault(); if (!refusal) { onConnect(c); onClose() } }}>
        <div className="field">
          <label className="field-label" htmlFor="connect-port">From its output</label>
          <select id="connect-port" className="input" value={port} onChange={(e) => setPort(e.target.value)} data-testid="connect-port">
            {outputs.map((p) => <option key={p.name} value={p.name}>{p.name} ({p.type})</option>)}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="connect-target">To node</label>
          <select id="connect-target" className="input" value={target} onChange={(e) => setTarget(e.target.value)} data-testid="connect-target">
            {targets.map((n) => <option key={n.id} value={n.id}>{nameOf(n, specOf(n))}</option>)}
          </select>
        </div>
        <div className="field">
          <label className="field-label" htmlFor="connect-input">Its input</label>
          <select id="connect-input" className="input" value={targetPort} onChange={(e) => setInput(e.target.value)} data-testid="connect-input">
            {inputs.map((p) => <option key={p.name} value={p.name}>{p.name} ({p.type})</option>)}
          </select>
        </div>
        {refusal && <p className="problem warning small" role="status" data-testid="connect-refusal">{refusal}</p>}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" className="btn primary" disabled={!!refusal} data-testid="connect-submit">Connect</button>
        </div>
      </form>
    </Dialog>
  )
}
