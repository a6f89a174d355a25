// Warns when a pasted graph or an imported template carries literal secret-looking values
// (a "Bearer ..." header, a key-shaped string): they would be copied into every version, template
// and run. Each can be moved into a credential; "Keep as is" (or Escape) closes the dialog.
import './credentials.css'
import type { Finding } from './api'
import { FindingRow, type FindingNode } from './FindingRow'
import { pointerPath, type Move } from './moveIntoCredential'
import { useFocusTrap } from '../ui/useFocusTrap'

interface Props {
  findings: Finding[]
  nodeOf: (id: string) => FindingNode | undefined
  valueAt: (nodeId: string, path: string[]) => unknown
  apply: (nodeId: string, credentialId: string, move: Move) => void
  readOnly: boolean
  onClose: () => void
}

export function SecretFindingsDialog({ findings, nodeOf, valueAt, apply, readOnly, onClose }: Props) {
  const trap = useFocusTrap<HTMLDivElement>(onClose)
  return (
    <div className="modal-backdrop" onMouseDown={onClose}>
      <div className="modal wide" role="dialog" tabIndex={-1} aria-modal="true" aria-labelledby="secret-findings-title" aria-describedby="secret-findings-why"
        ref={trap.ref} onKeyDown={trap.onKeyDown} onMouseDown={(e) => e.stopPropagation()} data-testid="secret-findings">
        <h3 id="secret-findings-title">This graph carries secrets</h3>
        <p id="secret-findings-why" className="small">
          These values look like tokens or keys. Kept in the graph, they are copied into every version, template, clipboard and run.
          A credential keeps them encrypted, and the node refers to it by id.
        </p>
        <ul className="findings">
          {findings.map((f, i) => (
            <FindingRow key={`${f.node_id}${f.field}`} index={i} finding={f} node={readOnly ? undefined : nodeOf(f.node_id)}
              value={valueAt(f.node_id, pointerPath(f.field))} nodeHasCredential={!!valueAt(f.node_id, ['credential'])} apply={apply} />
          ))}
        </ul>
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose} data-testid="secret-findings-keep">Keep as is</button>
        </div>
      </div>
    </div>
  )
}
