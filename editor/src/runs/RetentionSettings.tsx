// The workspace's run retention on /settings/workspace: keep runs N days and at most M per workflow (owners
// change it; everyone sees it), and a dry run that says what the next prune would remove.
import { useCallback, useEffect, useState, type FormEvent } from 'react'
import { call } from '../api/client'
import { Field } from '../teams/Field'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { useLoad } from '../teams/useLoad'

interface Retention { keep_days: number; max_per_workflow: number | null; kept_always: string[] }
interface PruneReport { dry_run: boolean; runs: number; node_runs: number; events: number; outbox: number }

export function RetentionSettings({ isOwner }: { isOwner: boolean }) {
  const policy = useLoad(useCallback(() => call<Retention>('GET', '/retention'), []))
  const [days, setDays] = useState('')
  const [cap, setCap] = useState('')
  const [report, setReport] = useState<PruneReport | null>(null)
  const act = useAction()
  useEffect(() => {
    if (policy.data) { setDays(String(policy.data.keep_days)); setCap(policy.data.max_per_workflow === null ? '' : String(policy.data.max_per_workflow)) }
  }, [policy.data])
  const save = async (e: FormEvent) => {
    e.preventDefault()
    const body = { keep_days: Number(days), max_per_workflow: cap.trim() ? Number(cap) : null }
    if (await act.run(() => call<Retention>('PUT', '/retention', body))) policy.reload()
  }
  const dryRun = async () => { const r = await act.run(() => call<PruneReport>('POST', '/retention/prune?dry_run=true')); if (r) setReport(r) }
  const p = policy.data
  return (
    <section aria-labelledby="retention-title" data-testid="retention">
      <h2 id="retention-title">Run retention</h2>
      <ProblemNote refusal={policy.refusal} testId="retention-load-error" />
      {p && !isOwner && (
        <p data-testid="retention-policy">Runs are kept {p.keep_days} days{p.max_per_workflow ? `, at most ${p.max_per_workflow} per workflow` : ''}. Only an owner can change it.</p>
      )}
      {p && isOwner && (
        <form className="inline-form" onSubmit={save} data-testid="retention-form">
          <div><Field id="retention-days" label="Keep runs (days)" field="keep_days" refusal={act.refusal} type="number" min={1} max={3650}
            value={days} onValue={setDays} required /></div>
          <div><Field id="retention-cap" label="At most per workflow (empty: no cap)" field="max_per_workflow" refusal={act.refusal}
            type="number" min={1} value={cap} onValue={setCap} /></div>
          <button className="btn primary" disabled={act.busy} data-testid="retention-save">Save</button>
          <button type="button" className="btn" disabled={act.busy} onClick={dryRun} data-testid="retention-dry-run">What would go now?</button>
        </form>
      )}
      <ProblemNote refusal={act.refusal} testId="retention-error" />
      {report && (
        <p role="status" data-testid="retention-report">The next prune would remove {report.runs} run(s), {report.node_runs} node run(s),
          {' '}{report.events} event(s) and {report.outbox} outbox message(s).</p>
      )}
      {p && <p className="muted small">Always kept: {p.kept_always.join('; ')}.</p>}
    </section>
  )
}
