// One literal secret the scan found: where (node, field) and why; for an http.request node, a name for
// the new credential and "Move into a credential", which creates it from the literal, points the node
// at it and removes the literal.
import { useEffect, useRef, useState } from 'react'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { credentialsApi, type Finding } from './api'
import { moveFor, type Move } from './moveIntoCredential'

export interface FindingNode { id: string; type: string; label?: string }

interface Props {
  finding: Finding
  index: number
  node: FindingNode | undefined
  value: unknown
  /** The node has a credential already (an http.request takes one): moving would replace it. */
  nodeHasCredential: boolean
  /** Point the node at the credential and drop the literal (one undo step). */
  apply: (nodeId: string, credentialId: string, move: Move) => void
}

export function FindingRow({ finding, index, node, value, nodeHasCredential, apply }: Props) {
  const move: Move | null = node?.type === 'http.request' ? moveFor(finding, value) : null
  const where = node?.label || finding.node_id
  const [name, setName] = useState(`${where} ${move?.type === 'header' || move?.type === 'query' ? move.data.name : finding.suggested_type}`)
  const [moved, setMoved] = useState<string | null>(null)
  const act = useAction()
  const id = `finding-${index}`
  // The button goes with the move: the focus goes to what it did (still inside the dialog).
  const note = useRef<HTMLParagraphElement>(null)
  useEffect(() => { if (moved) note.current?.focus() }, [moved])
  const run = async () => {
    if (!move) return
    const c = await act.run(() => credentialsApi.create(name.trim(), move.type, move.data))
    if (c) { apply(finding.node_id, c.id, move); setMoved(c.name) }
  }
  return (
    <li className="finding" data-testid={id} data-node={finding.node_id} data-field={finding.field}>
      <div><strong>{where}</strong> <code>{finding.field}</code> <span className="pill">{finding.kind}</span></div>
      <div className="small">{finding.message}</div>
      {moved ? (
        <p role="status" className="small" ref={note} tabIndex={-1} data-testid={`${id}-moved`}>Moved into the credential “{moved}”; the node uses it now.</p>
      ) : move && nodeHasCredential ? (
        <p className="muted small" data-testid={`${id}-taken`}>This node uses a credential already (it takes one): remove this value by hand, or keep it.</p>
      ) : move ? (
        <div className="inline-form">
          <div className="grow">
            <label className="field-label" htmlFor={`${id}-name`}>Name of the new {move.type} credential</label>
            <input id={`${id}-name`} className="input" value={name} onChange={(e) => setName(e.target.value)} data-testid={`${id}-name`} />
          </div>
          <button type="button" className="btn primary" disabled={act.busy || !name.trim()} onClick={run} data-testid={`${id}-move`}>
            Move into a credential
          </button>
        </div>
      ) : (
        <p className="muted small">Move it by hand: create a credential in Settings → Credentials and pick it in the node.</p>
      )}
      <ProblemNote refusal={act.refusal} testId={`${id}-error`} />
    </li>
  )
}
