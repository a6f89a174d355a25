// A webhook's last 20 accepted deliveries, newest first, with the status of the run each one started.
import { useCallback, useEffect } from 'react'
import { ago } from '../canvas/RunHistory'
import { ProblemNote } from '../teams/ProblemNote'
import { triggersApi } from './api'
import { useTriggerList } from './useTriggerList'

const ENDED = new Set(['succeeded', 'failed', 'cancelled'])
const FOLLOW_MS = 1000

/** `stamp` changes when a delivery may have been added (a test delivery, a co-editor's change). */
export function WebhookDeliveries({ workflowId, webhookId, stamp }: { workflowId: string; webhookId: string; stamp: number }) {
  const list = useTriggerList(useCallback(() => triggersApi.deliveries(workflowId, webhookId), [workflowId, webhookId]), stamp)
  // Follow runs still going, so their status lands without a reload.
  const going = !!list.data?.some((d) => !ENDED.has(d.status))
  useEffect(() => {
    if (!going) return
    const t = setTimeout(list.reload, FOLLOW_MS)
    return () => clearTimeout(t)
  }, [going, list.data]) // eslint-disable-line react-hooks/exhaustive-deps
  const heading = `deliveries-${webhookId}`
  return (
    <div className="deliveries" data-testid="webhook-deliveries">
      <h4 id={heading} className="field-label">Last deliveries</h4>
      <ProblemNote refusal={list.refusal} testId="deliveries-problem" />
      {list.data?.length === 0 && <p className="muted small">None yet. Refused deliveries (bad signature, schema…) start no run and are not listed.</p>}
      {!!list.data?.length && (
        <ul className="delivery-list" aria-labelledby={heading}>
          {list.data.map((d) => (
            <li key={d.run_id} data-testid="delivery-row" data-run-id={d.run_id} data-status={d.status}>
              <span className={`pill state-${d.status}`}>{d.status}</span>
              <span className="mono small">{d.method}</span>
              <span className="mono small">run {d.run_id.slice(0, 8)}</span>
              <span className="muted small">{ago(d.received_at)}</span>
              {d.error && <span className="problem error small">{d.error}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
