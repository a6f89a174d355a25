// Invite someone by email with a role; the returned link is shown once, with Copy (it is mailed too).
import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import type { InvitationCreated, Role } from '../api/types'
import { CopyOnce } from './CopyOnce'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { ROLE_HINT, ROLES } from './roles'
import { useAction } from './useAction'

export function InviteForm({ onInvited }: { onInvited: () => void }) {
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<Role>('editor')
  const [created, setCreated] = useState<InvitationCreated | null>(null)
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setCreated(null)
    const r = await act.run(() => api.invite(email, role))
    if (r) { setCreated(r); setEmail(''); onInvited() }
  }
  return (
    <section aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <form className="inline-form" onSubmit={submit} data-testid="invite-form">
        <div className="grow">
          <Field id="invite-email" label="Email" field="email" refusal={act.refusal} type="email" value={email} onValue={setEmail} required />
        </div>
        <div>
          <label className="field-label" htmlFor="invite-role">Role</label>
          <select id="invite-role" className={`input${act.refusal?.field === 'role' ? ' invalid' : ''}`} value={role}
            data-testid="invite-role" onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => <option key={r} value={r}>{r} ({ROLE_HINT[r]})</option>)}
          </select>
        </div>
        <button className="btn primary" disabled={act.busy} data-testid="invite-submit">Invite</button>
      </form>
      <ProblemNote refusal={act.refusal} testId="invite-form-error" />
      {created && <CopyOnce label={`Invitation link for ${created.email} (also mailed)`} value={created.url} testId="invite-link" />}
    </section>
  )
}
