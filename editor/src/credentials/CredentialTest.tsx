// POST .../test: does the credential work? HTTP types call a URL one gives (the server checks it like
// any outbound address); the others log in (SMTP), run `select 1` (SQL) or refresh a token (OAuth2).
import { useState } from 'react'
import { refusalOf } from '../teams/problem'
import { credentialsApi, type Credential, type TestResult } from './api'

const NEEDS_URL = new Set(['bearer', 'basic', 'header', 'query'])

export function CredentialTest({ credential }: { credential: Credential }) {
  const [url, setUrl] = useState('')
  const [result, setResult] = useState<TestResult | null>(null)
  const [busy, setBusy] = useState(false)
  const id = `credential-test-${credential.name}`
  const test = async () => {
    setResult(null); setBusy(true)
    try { setResult(await credentialsApi.test(credential.id, url.trim() || undefined)) }
    catch (err) { setResult({ ok: false, message: refusalOf(err).detail }) }
    finally { setBusy(false) }
  }
  return (
    <span className="credential-test">
      {NEEDS_URL.has(credential.type) && (
        <input className="input compact" type="url" placeholder="https://api.example.com/me" value={url} onChange={(e) => setUrl(e.target.value)}
          aria-label={`URL to test ${credential.name} against`} data-testid={`${id}-url`} />
      )}
      <button type="button" className="btn small" onClick={test} disabled={busy} aria-label={`Test ${credential.name}`} data-testid={id}>
        {busy ? 'Testing…' : 'Test'}
      </button>
      <span role="status" className="small" data-testid={`${id}-result`} data-ok={result ? String(result.ok) : undefined}>
        {result && <span className={`pill ${result.ok ? 'state-succeeded' : 'state-failed'}`}>{result.ok ? 'ok' : 'failed'}</span>}
        {result?.message && <span> {result.message}</span>}
      </span>
    </span>
  )
}
