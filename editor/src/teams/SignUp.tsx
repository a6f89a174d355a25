// /signup: a new account and its workspace. Allowed per GET /api/auth/config (open, or the first visitor);
// otherwise the page says why instead of offering a form the server would refuse.
import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import type { AuthConfig, Me } from '../api/types'
import { AuthCard } from './AuthCard'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { useAction } from './useAction'
import { useLoad } from './useLoad'

const loadConfig = () => api.authConfig()

export function signupAllowed(c: AuthConfig | null): boolean {
  return !!c && (c.first_user || c.signup === 'open')
}

export function SignUp({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const config = useLoad(loadConfig)
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [workspace, setWorkspace] = useState('')
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const me = await act.run(async () => { await api.signup({ name, email, password, workspace }); return api.me() })
    if (me) onSignedIn(me)
  }
  const c = config.data
  return (
    <AuthCard title={c?.first_user ? 'Create the first account' : 'Create an account'} testId="signup">
      {c && !signupAllowed(c) && (
        <p className="problem warning" role="status" data-testid="signup-closed">
          {c.signup === 'closed' ? 'Sign-up is closed on this instance.' : 'This instance is invitation only: ask a workspace owner for an invitation link.'}
        </p>
      )}
      {c?.first_user && <p className="muted">Nobody has an account yet: you become the owner of the new workspace and the instance admin.</p>}
      {(!c || signupAllowed(c)) && <form onSubmit={submit} data-testid="signup-form">
        <Field id="signup-name" label="Your name" field="name" refusal={act.refusal} value={name} onValue={setName} autoComplete="name" required />
        <Field id="signup-email" label="Email" field="email" refusal={act.refusal} type="email" value={email} onValue={setEmail} autoComplete="username" required />
        <Field id="signup-password" label="Password (10 characters or more)" field="password" refusal={act.refusal} type="password"
          value={password} onValue={setPassword} autoComplete="new-password" required />
        <Field id="signup-workspace" label="Workspace name" field="workspace" refusal={act.refusal} value={workspace} onValue={setWorkspace}
          autoComplete="organization" required />
        <ProblemNote refusal={act.refusal ?? config.refusal} testId="signup-error" />
        <button className="btn primary wide" disabled={act.busy} data-testid="signup-submit">{act.busy ? 'Creating…' : 'Create account'}</button>
      </form>}
      <p className="muted small">Already have an account? <a href="/signin">Sign in</a></p>
    </AuthCard>
  )
}
