// The workflows that use a credential (why a delete was refused), each a link to its canvas.
import type { UsedBy } from './api'

export function UsedByList({ usedBy, testId }: { usedBy: UsedBy[]; testId: string }) {
  if (!usedBy.length) return null
  return (
    <ul className="used-by" data-testid={testId}>
      {usedBy.map((u) => (
        <li key={u.workflow_id}>
          <a href={`/workflows/${u.workflow_id}`}>{u.workflow_name || u.workflow_id}</a>
          {u.node_ids?.length ? <span className="muted small"> ({u.node_ids.join(', ')})</span> : null}
        </li>
      ))}
    </ul>
  )
}
