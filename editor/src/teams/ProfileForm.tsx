// Change the account's display name (PATCH /api/auth/me).
import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { useSession } from './session'
import { useAction } from './useAction'

export function ProfileForm() {
  const { me, refresh } = useSession()
  const [name, setName] = useState(me.name)
  const [saved, setSaved] = useState(false)
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setSaved(false)
    const next = await act.run(() => api.updateMe(name))
    if (next) { setSaved(true); await refresh(next) }
  }
  return (
    <section aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <form className="inline-form" onSubmit={submit} data-testid="profile-form">
        <div className="grow"><Field id="account-name" label="Name" field="name" refusal={act.refusal} value={name} onValue={setName} autoComplete="name" required /></div>
        <button className="btn primary" disabled={act.busy} data-testid="account-name-save">Save</button>
      </form>
      <p className="muted small">Email: {me.email}</p>
      {saved && <p className="problem ok" role="status" data-testid="account-name-saved">Saved.</p>}
      <ProblemNote refusal={act.refusal} testId="profile-error" />
    </section>
  )
}
