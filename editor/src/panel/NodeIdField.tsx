// A node's id, editable: a new id (unique, a valid identifier) renames the node, its edges and every
// expression that names it, in one collaborative edit (ops.renameNode, one undo step).
import { useState } from 'react'
import type { Graph, GraphNode } from '../api/types'
import type { Ops } from '../collab/ops'

const ID = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/

interface Props { node: GraphNode; graph: Graph; readOnly: boolean; ops: Ops | null; onRenamed?: (id: string) => void }

export function NodeIdField({ node, graph, readOnly, ops, onRenamed }: Props) {
  const [text, setText] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const commit = () => {
    const next = (text ?? node.id).trim()
    if (next === node.id) { setText(null); setError(null); return }
    if (!ID.test(next)) return setError('an id starts with a letter or _, then letters, digits, _ or -, at most 64')
    if (graph.nodes.some((n) => n.id === next)) return setError(`another node is called ${next}`)
    if (ops?.renameNode(node.id, next)) { setText(null); setError(null); onRenamed?.(next) }
  }
  return (
    <div className="node-id-field">
      <input className={`input mono small${error ? ' invalid' : ''}`} aria-label="Node id (used in expressions as nodes.<id>)" data-testid="node-id-input"
        value={text ?? node.id} disabled={readOnly} aria-invalid={!!error || undefined} aria-describedby={error ? 'node-id-error' : undefined}
        onChange={(e) => { setText(e.target.value); setError(null) }} onBlur={commit}
        onKeyDown={(e) => { if (e.key === 'Enter') commit(); else if (e.key === 'Escape') { setText(null); setError(null) } }} />
      <span className="muted small mono"> · {node.type} v{node.type_version}</span>
      {error && <div className="field-error" role="alert" id="node-id-error" data-testid="node-id-error">{error}</div>}
    </div>
  )
}
