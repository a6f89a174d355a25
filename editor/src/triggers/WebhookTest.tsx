// Send a test delivery: the server signs the sample body with the webhook's secret and delivers it to the
// webhook's URL as a sender would; shown here is what the webhook answered (202 and the run, or the problem).
import { useState } from 'react'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { triggersApi, type TestResult } from './api'

const SAMPLE = '{\n  "test": true\n}'
const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const
type Method = typeof METHODS[number]

export function WebhookTest({ workflowId, webhookId, onSent }: { workflowId: string; webhookId: string; onSent: () => void }) {
  const [text, setText] = useState(SAMPLE)
  const [method, setMethod] = useState<Method>('POST')
  const [result, setResult] = useState<TestResult | null>(null)
  const [jsonError, setJsonError] = useState<string | null>(null)
  const send = useAction()
  const id = `webhook-test-${webhookId}`

  const submit = async (e: React.FormEvent) => {
    e.preventDefault()
    let body: unknown
    try { body = JSON.parse(text) } catch (err) { setJsonError(`The body is not JSON: ${(err as Error).message}`); return }
    setJsonError(null); setResult(null)
    const r = await send.run(() => triggersApi.testWebhook(workflowId, webhookId, method, body))
    if (r) { setResult(r); onSent() }
  }

  return (
    <form className="webhook-test" onSubmit={submit} data-testid="webhook-test">
      <label className="field-label" htmlFor={`${id}-body`}>Test delivery body (JSON)</label>
      <textarea id={`${id}-body`} className={`input mono${jsonError ? ' invalid' : ''}`} rows={3} value={text} spellCheck={false}
        aria-invalid={!!jsonError || undefined} aria-describedby={jsonError ? `${id}-json` : undefined}
        onChange={(e) => setText(e.target.value)} data-testid="webhook-test-body" />
      {jsonError && <div id={`${id}-json`} className="problem error" role="alert">{jsonError}</div>}
      <ProblemNote refusal={send.refusal} testId="webhook-test-problem" />
      <div className="trigger-inline">
        <label htmlFor={`${id}-method`}>Method</label>
        <select id={`${id}-method`} className="input compact" value={method} onChange={(e) => setMethod(e.target.value as Method)}
          data-testid="webhook-test-method">{METHODS.map((m) => <option key={m}>{m}</option>)}</select>
      <button type="submit" className="btn small" disabled={send.busy} data-testid="webhook-test-send">{send.busy ? 'Sending…' : 'Send test delivery'}</button>
      </div>
      {result && (
        <div className="webhook-test-result" role="status" data-testid="webhook-test-result" data-status={result.status}>
          <span className={`pill ${result.status < 300 ? 'state-succeeded' : 'state-failed'}`}>HTTP {result.status}</span>
          <pre className="json small">{JSON.stringify(result.body, null, 2)}</pre>
        </div>
      )}
    </form>
  )
}
