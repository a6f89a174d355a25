// The workflow's webhooks: URL (copy), the secret shown once on create and rotate, a test delivery, the last deliveries.
import { useCallback, useState } from 'react'
import { CopyOnce } from '../teams/CopyOnce'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { triggersApi, type Respond, type Source, type Webhook, type WebhookCreated } from './api'
import { WebhookDeliveries } from './WebhookDeliveries'
import { WebhookTest } from './WebhookTest'
import { useTriggerList } from './useTriggerList'

// What the sender gets back (docs/triggers.md, synchronous webhooks)
const ANSWERS: Record<Respond, string> = {
  immediately: 'at once (202, the run id)', when_done: "the run's output when it ends", node: 'what a “Respond to webhook” node sets',
}

interface Props { workflowId: string; canEdit: boolean; stamp: number; changed: () => void }

export function WebhooksSection({ workflowId, canEdit, stamp, changed }: Props) {
  const list = useTriggerList(useCallback(() => triggersApi.webhooks(workflowId), [workflowId]), stamp)
  const [revealed, setRevealed] = useState<WebhookCreated | null>(null)
  const [source, setSource] = useState<Source>('published')
  const [description, setDescription] = useState('')
  const [respond, setRespond] = useState<Respond>('immediately')
  const [sent, setSent] = useState(0)
  const act = useAction()
  const after = (w?: WebhookCreated) => { setRevealed(w ?? null); list.reload(); changed() }

  const create = async (e: React.FormEvent) => {
    e.preventDefault()
    const w = await act.run(() => triggersApi.createWebhook(workflowId, { source, description, respond }))
    if (w) { setDescription(''); after(w) }
  }
  const rotate = async (w: Webhook) => {
    if (!window.confirm('Rotate the secret? The current one stops working at once.')) return
    const r = await act.run(() => triggersApi.rotateWebhook(workflowId, w.id))
    if (r) after(r)
  }
  const remove = async (w: Webhook) => {
    if (!window.confirm('Delete this webhook? Its URL stops accepting deliveries.')) return
    if (await act.run(() => triggersApi.deleteWebhook(workflowId, w.id).then(() => true))) after()
  }

  return (
    <section aria-labelledby="webhooks-heading" data-testid="webhooks-section">
      <h3 id="webhooks-heading" className="trigger-heading">Webhooks</h3>
      <ProblemNote refusal={list.refusal ?? act.refusal} testId="webhooks-problem" />
      {list.data?.length === 0 && <p className="muted small">No webhook: add one to start this workflow from another service.</p>}
      <ul className="trigger-list">
        {list.data?.map((w) => (
          <li key={w.id} className="trigger-card" data-testid="webhook-row" data-webhook-id={w.id}>
            {w.description && <b>{w.description}</b>}
            <CopyOnce label="URL" value={w.url} testId={`webhook-url-${w.id}`} once={false} />
            {revealed?.id === w.id && <>
              <CopyOnce label="Signing secret" value={revealed.secret} testId="webhook-secret" />
              <button type="button" className="btn small" onClick={() => setRevealed(null)} data-testid="webhook-secret-done">I have copied it</button>
            </>}
            <p className="muted small">Secret <span className="mono">{w.secret_hint}…</span> · runs the {w.source === 'draft' ? 'draft' : 'published version'}
              {w.allow_token ? ' · accepts ?token=' : ''}{w.respond && w.respond !== 'immediately' ? ` · answers ${ANSWERS[w.respond]}` : ''}</p>
            {canEdit && <div className="trigger-actions">
              <button type="button" className="btn small" onClick={() => rotate(w)} disabled={act.busy} data-testid="webhook-rotate">Rotate secret</button>
              <button type="button" className="btn small" onClick={() => remove(w)} disabled={act.busy} data-testid="webhook-delete">Delete</button>
            </div>}
            {canEdit && <WebhookTest workflowId={workflowId} webhookId={w.id} onSent={() => setSent((n) => n + 1)} />}
            <WebhookDeliveries workflowId={workflowId} webhookId={w.id} stamp={stamp + sent} />
          </li>
        ))}
      </ul>
      {canEdit && (
        <form className="trigger-form" onSubmit={create} aria-label="New webhook">
          <label className="field-label" htmlFor="webhook-description">Description (optional)</label>
          <input id="webhook-description" className="input" value={description} maxLength={2000}
            onChange={(e) => setDescription(e.target.value)} data-testid="webhook-description" />
          <div className="trigger-inline">
            <label htmlFor="webhook-source">Runs</label>
            <select id="webhook-source" className="input compact" value={source} onChange={(e) => setSource(e.target.value as Source)} data-testid="webhook-source">
              <option value="published">the published version</option><option value="draft">the draft</option>
            </select>
          </div>
          <div className="trigger-inline">
            <label htmlFor="webhook-respond">Answers</label>
            <select id="webhook-respond" className="input compact" value={respond} onChange={(e) => setRespond(e.target.value as Respond)} data-testid="webhook-respond">
              {(Object.keys(ANSWERS) as Respond[]).map((r) => <option key={r} value={r}>{ANSWERS[r]}</option>)}
            </select>
          </div>
          <button type="submit" className="btn" disabled={act.busy} data-testid="webhook-add">Add webhook</button>
        </form>
      )}
    </section>
  )
}
