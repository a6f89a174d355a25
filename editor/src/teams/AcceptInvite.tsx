// /invite/{token}: who invited you to which workspace, with which role. A newcomer sets name and
// password; someone signed in as the invited address joins with one click; someone with an account
// who is not signed in joins with that account's password.
import { useCallback, useState, type FormEvent } from 'react'
import { api } from '../api/client'
import type { InvitationInfo, Me } from '../api/types'
import { AuthCard } from './AuthCard'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import type { Refusal } from './problem'
import { useAction } from './useAction'
import { useLoad } from './useLoad'

const DEAD_LINK: Record<number, string> = {
  404: 'This invitation link is not valid: it was revoked, replaced by a newer one, or never existed.',
  409: 'This invitation was already used. Sign in with the account that accepted it.',
  410: 'This invitation has expired. Ask the person who invited you for a new one.',
}

/** The message for a link that cannot be used, or null when the refusal is something else. */
function deadLink(r: Refusal | null): string | null {
  return r ? DEAD_LINK[r.status] ?? null : null
}

export function AcceptInvite({ token, me, onJoined, onSignOut }: {
  token: string; me: Me | null; onJoined: (me: Me) => void; onSignOut: () => void
}) {
  const load = useCallback(() => api.getInvitation(token), [token])
  const info = useLoad(load)
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const act = useAction()

  const accept = async (body: { name?: string; password?: string }, workspace: string) => {
    const joined = await act.run(async () => {
      await api.acceptInvitation(token, body)
      let now = await api.me()
      // Land in the workspace just joined (an existing account may have been elsewhere).
      const target = now.tenants.find((t) => t.name === workspace)
      if (target && target.id !== now.tenant_id) now = await api.switchWorkspace(target.id).then(() => api.me())
      return now
    })
    if (joined) onJoined(joined)
  }

  const gone = deadLink(info.refusal) ?? deadLink(act.refusal)
  if (gone) {
    return (
      <AuthCard title="Invitation" testId="invite">
        <p className="problem error" role="alert" data-testid="invite-dead" data-status={(info.refusal ?? act.refusal)?.status}>{gone}</p>
        <p className="muted small"><a href="/">Go to Maily Flow</a></p>
      </AuthCard>
    )
  }
  const inv = info.data
  if (!inv) {
    return <AuthCard title="Invitation" testId="invite"><ProblemNote refusal={info.refusal} testId="invite-error" />{!info.refusal && <p className="muted">Loading…</p>}</AuthCard>
  }
  return (
    <AuthCard title={`Join ${inv.workspace}`} testId="invite">
      <p data-testid="invite-summary"><strong>{inv.inviter}</strong> invited <strong>{inv.email}</strong> to <strong>{inv.workspace}</strong> as <strong>{inv.role}</strong>.</p>
      <p className="muted small">The link expires {new Date(inv.expires_at).toLocaleString()}.</p>
      <InviteForm inv={inv} me={me} name={name} setName={setName} password={password} setPassword={setPassword}
        busy={act.busy} refusal={act.refusal} onAccept={(body) => accept(body, inv.workspace)} onSignOut={onSignOut} />
    </AuthCard>
  )
}

function InviteForm({ inv, me, name, setName, password, setPassword, busy, refusal, onAccept, onSignOut }: {
  inv: InvitationInfo; me: Me | null; name: string; setName: (v: string) => void; password: string
  setPassword: (v: string) => void; busy: boolean; refusal: Refusal | null
  onAccept: (body: { name?: string; password?: string }) => void; onSignOut: () => void
}) {
  const submit = (body: { name?: string; password?: string }) => (e: FormEvent) => { e.preventDefault(); onAccept(body) }
  if (me && me.email.toLowerCase() === inv.email.toLowerCase()) {
    return (
      <form onSubmit={submit({})} data-testid="invite-join-form">
        <p className="muted">You are signed in as {me.email}.</p>
        <ProblemNote refusal={refusal} testId="invite-error" />
        <button className="btn primary wide" disabled={busy} data-testid="invite-join">Join {inv.workspace}</button>
      </form>
    )
  }
  if (me) {
    return (
      <div data-testid="invite-wrong-account">
        <p className="problem warning" role="status">You are signed in as {me.email}, but this invitation is for {inv.email}. Sign out, then open the link again.</p>
        <button className="btn wide" onClick={onSignOut} data-testid="invite-signout">Sign out</button>
      </div>
    )
  }
  if (inv.has_account) {
    return (
      <form onSubmit={submit({ password })} data-testid="invite-password-form">
        <p className="muted">{inv.email} already has an account: enter its password to join.</p>
        <Field id="invite-password" label="Password" field="password" refusal={refusal} type="password" value={password}
          onValue={setPassword} autoComplete="current-password" required autoFocus />
        <ProblemNote refusal={refusal} testId="invite-error" />
        <button className="btn primary wide" disabled={busy} data-testid="invite-accept">Join {inv.workspace}</button>
      </form>
    )
  }
  return (
    <form onSubmit={submit({ name, password })} data-testid="invite-signup-form">
      <Field id="invite-name" label="Your name" field="name" refusal={refusal} value={name} onValue={setName} autoComplete="name" required autoFocus />
      <Field id="invite-new-password" label="Choose a password (10 characters or more)" field="password" refusal={refusal} type="password"
        value={password} onValue={setPassword} autoComplete="new-password" required />
      <ProblemNote refusal={refusal} testId="invite-error" />
      <button className="btn primary wide" disabled={busy} data-testid="invite-accept">Create account and join</button>
    </form>
  )
}
