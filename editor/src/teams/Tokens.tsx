// /settings/tokens: API tokens of the current workspace. A new token is shown once; only its prefix stays.
import { useCallback, useState, type FormEvent } from 'react'
import { api } from '../api/client'
import type { ApiToken, ApiTokenCreated } from '../api/types'
import { ago } from '../canvas/RunHistory'
import { CopyOnce } from './CopyOnce'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { SettingsPage } from './SettingsPage'
import { useAction } from './useAction'
import { useHeadingFocus } from './useHeadingFocus'
import { useLoad } from './useLoad'

export function Tokens() {
  const tokens = useLoad(useCallback(() => api.listTokens(), []))
  const [name, setName] = useState('')
  const [readOnly, setReadOnly] = useState(false)
  const [created, setCreated] = useState<ApiTokenCreated | null>(null)
  const make = useAction()
  const revoke = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setCreated(null)
    const t = await make.run(() => api.createToken(name, readOnly))
    if (t) { setCreated(t); setName(''); setReadOnly(false); tokens.reload() }
  }
  const heading = useHeadingFocus()
  const drop = async (t: ApiToken) => {
    setCreated(null); await revoke.run(() => api.revokeToken(t.id)); tokens.reload(); heading.focus()
  }
  const live = (tokens.data ?? []).filter((t) => !t.revoked_at)
  return (
    <SettingsPage title="API tokens" path="/settings/tokens">
      <p className="muted">A token acts as you in this workspace: send it as <code>Authorization: Bearer …</code>. A read-only token can only read.</p>
      <section aria-labelledby="token-create-title">
        <h2 id="token-create-title">New token</h2>
        <form className="inline-form" onSubmit={submit} data-testid="token-form">
          <div className="grow"><Field id="token-name" label="Name" field="name" refusal={make.refusal} value={name} onValue={setName} required /></div>
          <label className="check"><input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} data-testid="token-read-only" /> Read-only</label>
          <button className="btn primary" disabled={make.busy} data-testid="token-create">Create token</button>
        </form>
        <ProblemNote refusal={make.refusal} testId="token-error" />
        {created && <CopyOnce label={`Token “${created.name}”`} value={created.token} testId="token-created" />}
      </section>
      <section aria-labelledby="token-list-title">
        <h2 id="token-list-title" ref={heading.ref} tabIndex={heading.tabIndex}>Tokens</h2>
        <ProblemNote refusal={revoke.refusal ?? tokens.refusal} testId="tokens-error" />
        {live.length === 0 ? <p className="muted" data-testid="tokens-empty">No tokens.</p> : (
          <table className="data-table" data-testid="tokens-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Access</th><th scope="col">Last used</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {live.map((t) => (
                <tr key={t.id} data-testid={`token-${t.name}`}>
                  <td>{t.name}</td>
                  <td className="mono">{t.prefix}…</td>
                  <td><span className="pill" data-testid={`token-access-${t.name}`}>{t.read_only ? 'read-only' : 'read & write'}</span></td>
                  <td className="muted small">{t.last_used_at ? ago(t.last_used_at) : 'never'}</td>
                  <td className="muted small">{ago(t.created_at)}</td>
                  <td className="row-actions"><button className="btn small" onClick={() => drop(t)} disabled={revoke.busy}
                    aria-label={`Revoke the token ${t.name}`} data-testid={`token-revoke-${t.name}`}>Revoke</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </SettingsPage>
  )
}
