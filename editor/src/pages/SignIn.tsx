import { useEffect, useState, type FormEvent } from 'react'
import { api } from '../api/client'
import type { AuthConfig, Me } from '../api/types'
import { ForgotPassword } from '../teams/ForgotPassword'

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [forgot, setForgot] = useState(false)
  const [config, setConfig] = useState<AuthConfig | null>(null)
  useEffect(() => { api.authConfig().then(setConfig, () => setConfig(null)) }, [])
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true); setError(null)
    try { onSignedIn(await api.login(email, password)) }
    catch (err) {
      const status = (err as { status?: number }).status
      setError(status === 401 ? 'Wrong email or password.'
        : status === 403 ? 'This account is in no workspace any more (removed by an owner): ask an owner for a new invitation.'
        : (err as Error).message)
    }
    finally { setBusy(false) }
  }
  // Sign-up is offered when the instance is open, and always to the first visitor of an empty instance.
  const canSignUp = !!config && (config.first_user || config.signup === 'open')
  return (
    <main className="signin-page">
      <div className="signin-card">
        <div className="brand big"><span className="logo" aria-hidden="true">M</span> Maily Flow</div>
        {forgot ? <ForgotPassword onBack={() => setForgot(false)} /> : (
          <form onSubmit={submit} data-testid="signin-form">
            <h1 className="auth-title">Sign in</h1>
            <p className="muted">Sign in to build and run your workflows.</p>
            {config?.first_user && (
              <p className="problem warning" role="status" data-testid="first-user">
                Nobody has an account here yet. <a href="/signup" data-testid="first-user-signup">Create the first account</a>: you become its owner and the instance admin.
              </p>
            )}
            <label className="field-label" htmlFor="email">Email</label>
            <input id="email" className="input" type="email" autoComplete="username" value={email} autoFocus
              onChange={(e) => setEmail(e.target.value)} data-testid="signin-email" required />
            <label className="field-label" htmlFor="password">Password</label>
            <input id="password" className="input" type="password" autoComplete="current-password" value={password}
              onChange={(e) => setPassword(e.target.value)} data-testid="signin-password" required />
            {error && <div className="problem error" role="alert" data-testid="signin-error">{error}</div>}
            <button className="btn primary wide" disabled={busy} data-testid="signin-submit">{busy ? 'Signing in…' : 'Sign in'}</button>
            <div className="auth-links">
              <button type="button" className="link" onClick={() => setForgot(true)} data-testid="forgot-password">Forgot password?</button>
              {canSignUp && <a href="/signup" data-testid="signup-link">Create an account</a>}
            </div>
          </form>
        )}
      </div>
    </main>
  )
}
