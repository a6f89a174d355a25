import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import type { Me } from '../api/types'

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true); setError(null)
    try { onSignedIn(await api.login(email, password)) }
    catch (err) { setError((err as { status?: number }).status === 401 ? 'Wrong email or password.' : (err as Error).message) }
    finally { setBusy(false) }
  }
  return (
    <div className="signin-page">
      <form className="signin-card" onSubmit={submit} data-testid="signin-form">
        <div className="brand big"><span className="logo">M</span> Maily Flow</div>
        <p className="muted">Sign in to build and run your workflows.</p>
        <label className="field-label" htmlFor="email">Email</label>
        <input id="email" className="input" type="email" autoComplete="username" value={email} autoFocus
          onChange={(e) => setEmail(e.target.value)} data-testid="signin-email" required />
        <label className="field-label" htmlFor="password">Password</label>
        <input id="password" className="input" type="password" autoComplete="current-password" value={password}
          onChange={(e) => setPassword(e.target.value)} data-testid="signin-password" required />
        {error && <div className="problem error" data-testid="signin-error">{error}</div>}
        <button className="btn primary wide" disabled={busy} data-testid="signin-submit">{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </div>
  )
}
