// The workflow's schedules: each with its cron, time zone, next five fire times, on/off switch and last error.
import { useCallback, useState } from 'react'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { triggersApi, type Schedule } from './api'
import { describeCron, fireTime } from './cron'
import { ScheduleForm } from './ScheduleForm'
import { useTriggerList } from './useTriggerList'

interface Props { workflowId: string; canEdit: boolean; stamp: number; changed: () => void }

export function SchedulesSection({ workflowId, canEdit, stamp, changed }: Props) {
  const list = useTriggerList(useCallback(() => triggersApi.schedules(workflowId), [workflowId]), stamp)
  const [editing, setEditing] = useState<string | 'new' | null>(null)
  const act = useAction()
  const done = () => { setEditing(null); list.reload(); changed() }
  const toggle = (s: Schedule) => act.run(() => triggersApi.updateSchedule(workflowId, s.id, { enabled: !s.enabled })).then((r) => r && done())
  const remove = (s: Schedule) => act.run(() => triggersApi.deleteSchedule(workflowId, s.id).then(() => true)).then((r) => r && done())

  return (
    <section aria-labelledby="schedules-heading" data-testid="schedules-section">
      <h3 id="schedules-heading" className="trigger-heading">Schedules</h3>
      <ProblemNote refusal={list.refusal ?? act.refusal} testId="schedules-problem" />
      {list.data?.length === 0 && editing !== 'new' && <p className="muted small">No schedule: this workflow runs only when started.</p>}
      <ul className="trigger-list">
        {list.data?.map((s) => editing === s.id ? (
          <li key={s.id}><ScheduleForm workflowId={workflowId} schedule={s} onSaved={done} onCancel={() => setEditing(null)} /></li>
        ) : (
          <li key={s.id} className="trigger-card" data-testid="schedule-row" data-schedule-id={s.id}>
            <div className="trigger-card-head">
              <span className="grow"><b>{describeCron(s.cron)}</b> <span className="mono small">{s.cron}</span><br />
                <span className="muted small">{s.timezone} · runs the {s.source === 'draft' ? 'draft' : 'published version'}</span></span>
              <label className="switch"><input type="checkbox" checked={s.enabled} disabled={!canEdit || act.busy}
                onChange={() => toggle(s)} data-testid="schedule-toggle" /> {s.enabled ? 'On' : 'Off'}</label>
            </div>
            {s.enabled && s.next_runs.length > 0 && (
              <details><summary className="small">Next: {fireTime(s.next_runs[0], s.timezone)}</summary>
                <ol>{s.next_runs.map((t) => <li key={t} className="mono small" data-testid="schedule-next">{fireTime(t, s.timezone)}</li>)}</ol>
              </details>
            )}
            {s.last_run_at && <p className="muted small">Last fired {fireTime(s.last_run_at, s.timezone)}{s.last_run_id ? <> · run <span className="mono">{s.last_run_id.slice(0, 8)}</span></> : null}</p>}
            {s.last_error && <p className="problem error small" data-testid="schedule-last-error">Last error: {s.last_error}</p>}
            {canEdit && <div className="trigger-actions">
              <button type="button" className="btn small" onClick={() => setEditing(s.id)} data-testid="schedule-edit">Edit</button>
              <button type="button" className="btn small" onClick={() => remove(s)} disabled={act.busy} data-testid="schedule-delete">Delete</button>
            </div>}
          </li>
        ))}
      </ul>
      {canEdit && (editing === 'new'
        ? <ScheduleForm workflowId={workflowId} onSaved={done} onCancel={() => setEditing(null)} />
        : <button type="button" className="btn" onClick={() => setEditing('new')} data-testid="schedule-add">Add schedule</button>)}
    </section>
  )
}
