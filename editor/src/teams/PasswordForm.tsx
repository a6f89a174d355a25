// Change the password (POST /api/auth/password); the user's other sessions end, this one stays.
import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { useAction } from './useAction'

export function PasswordForm({ onChanged }: { onChanged: () => void }) {
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [done, setDone] = useState(false)
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setDone(false)
    if (await act.run(async () => { await api.changePassword(current, next); return true })) {
      setDone(true); setCurrent(''); setNext(''); onChanged()
    }
  }
  // The server names `current_password` or `new_password`; a weak one may come back as `password`.
  const refusal = act.refusal?.field === 'password' ? { ...act.refusal, field: 'new_password' } : act.refusal
  return (
    <section aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form className="stack-form" onSubmit={submit} data-testid="password-form">
        <Field id="current-password" label="Current password" field="current_password" refusal={refusal} type="password"
          value={current} onValue={setCurrent} autoComplete="current-password" required />
        <Field id="new-password" label="New password (10 characters or more)" field="new_password" refusal={refusal} type="password"
          value={next} onValue={setNext} autoComplete="new-password" required />
        <div><button className="btn primary" disabled={act.busy} data-testid="password-submit">Change password</button></div>
      </form>
      {done && <p className="problem ok" role="status" data-testid="password-changed">Password changed. Your other sessions were signed out.</p>}
      <ProblemNote refusal={act.refusal} testId="password-error" />
    </section>
  )
}
