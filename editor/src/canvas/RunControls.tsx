// Run control on the run bar: Pause / Resume, Retry a failed run, and the approval form of a
// waiting approval.wait node (generated from its form schema) with Approve / Reject.
import { useState } from 'react'
import { api, ApiError } from '../api/client'
import type { Run, WaitingOn } from '../api/types'
import { SchemaForm, type FieldErrors } from '../forms/SchemaForm'
import type { ShownRun } from './useRunState'

interface Props { run: ShownRun; readOnly: boolean; show: (id: string) => void }

export function RunControls({ run, readOnly, show }: Props) {
  const [error, setError] = useState<string | null>(null)
  if (readOnly) return null
  const act = (p: Promise<{ id: string }>) =>
    p.then((r) => { setError(null); show(r.id) }).catch((e) => setError(e instanceof ApiError ? e.message : String(e)))
  const s = run.status
  return (
    <>
      {error && <span className="problem error small" data-testid="run-control-error">{error}</span>}
      {(s === 'running' || s === 'queued') && <button className="btn small" data-testid="run-pause" onClick={() => act(api.pauseRun(run.id))}>Pause</button>}
      {s === 'paused' && <button className="btn small primary" data-testid="run-resume" onClick={() => act(api.resumeRun(run.id))}>Resume</button>}
      {(s === 'failed' || s === 'cancelled') && <button className="btn small" data-testid="run-retry" onClick={() => act(api.retryRun(run.id))}>Retry</button>}
    </>
  )
}

/** The approval forms of a waiting run, one per waiting approval node. */
export function ApprovalPanel({ detail, readOnly, show }: { detail: Run | null; readOnly: boolean; show: (id: string) => void }) {
  const waiting = (detail?.status === 'waiting' ? detail.waiting_on ?? [] : []).filter((w) => w.reason === 'approval')
  if (!detail || !waiting.length) return null
  return <>{waiting.map((w) => <ApprovalForm key={w.node_id} runId={detail.id} waiting={w} readOnly={readOnly} show={show} />)}</>
}

function ApprovalForm({ runId, waiting, readOnly, show }: { runId: string; waiting: WaitingOn; readOnly: boolean; show: (id: string) => void }) {
  const d = waiting.details ?? {}
  const [value, setValue] = useState<Record<string, unknown>>({})
  const [errors, setErrors] = useState<FieldErrors>({})
  const [message, setMessage] = useState<string | null>(null)
  const decide = (decision: 'approve' | 'reject') =>
    api.decideRun(runId, decision, value, waiting.node_id).then(() => show(runId)).catch((e) => {
      if (!(e instanceof ApiError)) return setMessage(String(e))
      const fe: FieldErrors = {}
      for (const p of e.problems as any[]) if (p.pointer) (fe[p.pointer] ??= []).push(p.message)
      setErrors(fe)
      setMessage(e.message)
    })
  return (
    <div className="approval-panel" data-testid="approval-panel" data-node-id={waiting.node_id}>
      <b>{d.title ?? 'Approval needed'}</b> <span className="muted small mono">{waiting.node_id}</span>
      {d.instructions && <p className="muted small">{d.instructions}</p>}
      <SchemaForm schema={d.form ?? { type: 'object', properties: {} }} value={value} errors={errors} disabled={readOnly}
        idPrefix={`approval-${waiting.node_id}`}
        onChange={(path, v) => setValue((cur) => setAt(cur, path, v))} />
      {message && <div className="problem error" data-testid="approval-error">{message}</div>}
      {!readOnly && (
        <div className="row">
          <button className="btn small primary" data-testid="approval-approve" onClick={() => decide('approve')}>Approve</button>
          <button className="btn small" data-testid="approval-reject" onClick={() => decide('reject')}>Reject</button>
        </div>
      )}
    </div>
  )
}

function setAt(obj: any, path: (string | number)[], v: unknown): any {
  if (!path.length) return v
  const [head, ...rest] = path
  const copy = Array.isArray(obj) ? [...obj] : { ...(obj ?? {}) }
  const next = setAt(copy[head as any], rest, v)
  if (next === undefined) delete copy[head as any]
  else copy[head as any] = next
  return copy
}
