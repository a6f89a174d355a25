// "Forgot password?": asks for a reset link. The answer never says whether the address has an account.
import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { useAction } from './useAction'

export function ForgotPassword({ onBack }: { onBack: () => void }) {
  const [email, setEmail] = useState('')
  const [sent, setSent] = useState(false)
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setSent(false) // each request gets its own answer
    if ((await act.run(async () => { await api.requestPasswordReset(email); return true }))) setSent(true)
  }
  return (
    <form onSubmit={submit} data-testid="forgot-form">
      <p className="muted">We mail you a link to choose a new password.</p>
      <Field id="forgot-email" label="Email" field="email" refusal={act.refusal} type="email" value={email} onValue={setEmail}
        autoComplete="username" required autoFocus />
      {sent && <p className="problem ok" role="status" data-testid="forgot-sent">If that address has an account, a link is on its way.</p>}
      <ProblemNote refusal={act.refusal} testId="forgot-error" />
      <button className="btn primary wide" disabled={act.busy} data-testid="forgot-submit">Send the link</button>
      <button type="button" className="link" onClick={onBack} data-testid="forgot-back">Back to sign in</button>
    </form>
  )
}
