// /reset/{token}: the page the password-reset mail links to.
import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import { AuthCard } from './AuthCard'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { useAction } from './useAction'

export function ResetPassword({ token }: { token: string }) {
  const [password, setPassword] = useState('')
  const [done, setDone] = useState(false)
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (await act.run(async () => { await api.confirmPasswordReset(token, password); return true })) setDone(true)
  }
  return (
    <AuthCard title="Choose a new password" testId="reset">
      {done ? (
        <p className="problem ok" role="status" data-testid="reset-done">Your password is changed. <a href="/signin">Sign in</a> with it.</p>
      ) : (
        <form onSubmit={submit} data-testid="reset-form">
          <Field id="reset-password" label="New password (10 characters or more)" field="password" refusal={act.refusal}
            type="password" value={password} onValue={setPassword} autoComplete="new-password" required autoFocus />
          <ProblemNote refusal={act.refusal} testId="reset-error" />
          <button className="btn primary wide" disabled={act.busy} data-testid="reset-submit">Set the password</button>
        </form>
      )}
    </AuthCard>
  )
}
