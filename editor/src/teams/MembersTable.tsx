// The members of the workspace: owners change roles and remove people (with a confirmation);
// the last owner's refusal (409) is shown from the server's detail.
import { api } from '../api/client'
import type { MemberRow, Role } from '../api/types'
import { ago } from '../canvas/RunHistory'
import { ConfirmButton } from './ConfirmButton'
import { ProblemNote } from './ProblemNote'
import { ROLES } from './roles'
import { useAction } from './useAction'
import { useHeadingFocus } from './useHeadingFocus'

export function MembersTable({ members, meId, isOwner, onChanged }: {
  members: MemberRow[]; meId: string; isOwner: boolean; onChanged: () => void
}) {
  const act = useAction()
  const heading = useHeadingFocus()
  const setRole = async (m: MemberRow, role: Role) => {
    await act.run(() => api.setMemberRole(m.user_id, role))
    onChanged() // on a refusal too: the select goes back to the role the server kept
  }
  const remove = async (m: MemberRow) => {
    await act.run(() => api.removeMember(m.user_id))
    onChanged()
    heading.focus()
  }
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title" ref={heading.ref} tabIndex={heading.tabIndex}>Members</h2>
      <ProblemNote refusal={act.refusal} testId="members-error" />
      <table className="data-table" data-testid="members-table">
        <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Last active</th>{isOwner && <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.user_id} data-testid={`member-${m.email}`}>
              <td>{m.name}{m.user_id === meId && <span className="muted"> (you)</span>}</td>
              <td>{m.email}</td>
              <td>
                {isOwner ? (
                  <select className="input compact" aria-label={`Role of ${m.name || m.email}`} value={m.role} disabled={act.busy}
                    data-testid={`member-role-${m.email}`} onChange={(e) => setRole(m, e.target.value as Role)}>
                    {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                  </select>
                ) : <span className="pill" data-testid={`member-role-${m.email}`}>{m.role}</span>}
              </td>
              <td className="muted small">{m.last_active_at ? ago(m.last_active_at) : 'never'}</td>
              {isOwner && (
                <td className="row-actions">
                  <ConfirmButton verb="Remove" what={m.name || m.email} onConfirm={() => remove(m)} disabled={act.busy} testId={['member-remove', m.email]} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
