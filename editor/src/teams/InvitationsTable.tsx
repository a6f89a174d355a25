// Pending invitations: Resend (a new link, shown once; the old one stops working) and Revoke.
import { useState } from 'react'
import { api } from '../api/client'
import type { Invitation, InvitationCreated } from '../api/types'
import { CopyOnce } from './CopyOnce'
import { ProblemNote } from './ProblemNote'
import { useAction } from './useAction'
import { useHeadingFocus } from './useHeadingFocus'

export function InvitationsTable({ invitations, isOwner, onChanged }: {
  invitations: Invitation[]; isOwner: boolean; onChanged: () => void
}) {
  const act = useAction()
  const [resent, setResent] = useState<InvitationCreated | null>(null)
  const heading = useHeadingFocus()
  const resend = async (inv: Invitation) => {
    setResent(null)
    const r = await act.run(() => api.resendInvitation(inv.id))
    if (r) setResent(r)
    onChanged()
  }
  const revoke = async (inv: Invitation) => {
    setResent(null)
    await act.run(() => api.revokeInvitation(inv.id))
    onChanged()
    heading.focus()
  }
  return (
    <section aria-labelledby="invitations-title">
      <h2 id="invitations-title" ref={heading.ref} tabIndex={heading.tabIndex}>Pending invitations</h2>
      <ProblemNote refusal={act.refusal} testId="invitations-error" />
      {resent && <CopyOnce label={`New invitation link for ${resent.email}`} value={resent.url} testId="resent-link" />}
      {invitations.length === 0 ? <p className="muted" data-testid="invitations-empty">No pending invitations.</p> : (
        <table className="data-table" data-testid="invitations-table">
          <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Expires</th>{isOwner && <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
          <tbody>
            {invitations.map((inv) => (
              <tr key={inv.id} data-testid={`invitation-${inv.email}`}>
                <td>{inv.email}</td>
                <td><span className="pill">{inv.role}</span></td>
                <td className="muted small">{new Date(inv.expires_at).toLocaleString()}</td>
                {isOwner && (
                  <td className="row-actions">
                    <button className="btn small" onClick={() => resend(inv)} disabled={act.busy} aria-label={`Resend the invitation to ${inv.email}`}
                      data-testid={`invitation-resend-${inv.email}`}>Resend</button>
                    <button className="btn small" onClick={() => revoke(inv)} disabled={act.busy} aria-label={`Revoke the invitation to ${inv.email}`}
                      data-testid={`invitation-revoke-${inv.email}`}>Revoke</button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
