// Owners: set, replace or delete the workspace's key per provider. The key is typed into a password field,
// sent once and cleared; what comes back, and all this shows, is its last 4 characters.
import { useCallback, useState, type FormEvent } from 'react'
import { Field } from '../../teams/Field'
import { ProblemNote } from '../../teams/ProblemNote'
import { useAction } from '../../teams/useAction'
import { useHeadingFocus } from '../../teams/useHeadingFocus'
import { useLoad } from '../../teams/useLoad'
import { aiApi, PROVIDER_NAMES, PROVIDERS, type AiCredential, type Provider } from './api'

const hint = (c: AiCredential) => c.key_hint || 'set (too short to show its end)'

export function ProviderKeys({ onChanged }: { onChanged: () => void }) {
  const creds = useLoad(useCallback(() => aiApi.credentials(), []))
  const [provider, setProvider] = useState<Provider>('openai')
  const [key, setKey] = useState('')
  const [baseUrl, setBaseUrl] = useState('')
  const save = useAction()
  const drop = useAction()
  const heading = useHeadingFocus()
  const byProvider = new Map((creds.data ?? []).map((c) => [c.provider, c]))
  const current = byProvider.get(provider)
  const pick = (p: Provider) => { setProvider(p); setBaseUrl(byProvider.get(p)?.base_url ?? ''); save.clear() }
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const saved = await save.run(() => aiApi.putCredential(provider, key, baseUrl.trim() || null))
    if (saved) { setKey(''); creds.reload(); onChanged() }
  }
  const remove = async (p: Provider) => {
    await drop.run(() => aiApi.deleteCredential(p))
    creds.reload(); onChanged(); heading.focus()
  }
  return (
    <section aria-labelledby="ai-keys-title">
      <h2 id="ai-keys-title" ref={heading.ref} tabIndex={heading.tabIndex}>Provider keys</h2>
      <p className="muted small">Stored encrypted; never shown again. Without a key here, the instance's key (if any) is used.</p>
      <ProblemNote refusal={drop.refusal ?? creds.refusal} testId="ai-keys-error" />
      <table className="data-table" data-testid="ai-keys-table">
        <thead><tr><th scope="col">Provider</th><th scope="col">Key</th><th scope="col">Base URL</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {PROVIDERS.map((p) => {
            const c = byProvider.get(p)
            return (
              <tr key={p} data-testid={`ai-key-row-${p}`}>
                <td>{PROVIDER_NAMES[p]}</td>
                <td className="mono" data-testid={`ai-key-hint-${p}`}>{c ? hint(c) : <span className="muted">not set</span>}</td>
                <td className="small">{c?.base_url ?? <span className="muted">default</span>}</td>
                <td className="row-actions">{c && (
                  <button className="btn small" onClick={() => remove(p)} disabled={drop.busy}
                    aria-label={`Delete the ${PROVIDER_NAMES[p]} key`} data-testid={`ai-key-delete-${p}`}>Delete</button>
                )}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
      <h3>{current ? 'Replace a key' : 'Set a key'}</h3>
      <form className="inline-form" onSubmit={submit} data-testid="ai-key-form">
        <div>
          <label className="field-label" htmlFor="ai-key-provider">Provider</label>
          <select id="ai-key-provider" className="input" value={provider} data-testid="ai-key-provider"
            onChange={(e) => pick(e.target.value as Provider)}>
            {PROVIDERS.map((p) => <option key={p} value={p}>{PROVIDER_NAMES[p]}</option>)}
          </select>
        </div>
        <div className="grow"><Field id="ai-key-value" label="API key" type="password" autoComplete="new-password" field="api_key"
          refusal={save.refusal} value={key} onValue={setKey} required={provider !== 'compatible'} /></div>
        <div className="grow"><Field id="ai-key-base-url" label={provider === 'compatible' ? 'Base URL' : 'Base URL (optional)'}
          type="url" field="base_url" refusal={save.refusal} value={baseUrl} onValue={setBaseUrl}
          required={provider === 'compatible'} placeholder={provider === 'compatible' ? 'https://llm.example.com/v1' : ''} /></div>
        <button className="btn primary" disabled={save.busy} data-testid="ai-key-save">{current ? 'Replace key' : 'Set key'}</button>
        <ProblemNote refusal={save.refusal} testId="ai-key-save-error" />
      </form>
    </section>
  )
}
