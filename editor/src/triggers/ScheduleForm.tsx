// Add or edit a schedule: a preset (every 15 min, hourly, daily or weekdays at a time) or a raw cron, an IANA
// time zone, on/off, and the next five fire times as the server computes them while you type.
import { useEffect, useMemo, useState } from 'react'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { triggersApi, type Schedule, type Source } from './api'
import { browserZone, cronOf, fireTime, PRESETS, presetOf, timeZones, type Preset } from './cron'
import { useCronPreview } from './useCronPreview'

interface Props { workflowId: string; schedule?: Schedule; onSaved: () => void; onCancel: () => void }

export function ScheduleForm({ workflowId, schedule, onSaved, onCancel }: Props) {
  const start = presetOf(schedule?.cron ?? '0 9 * * 1-5')
  const [preset, setPreset] = useState<Preset>(start.preset)
  const [time, setTime] = useState(start.time)
  const [custom, setCustom] = useState(schedule?.cron ?? '0 9 * * 1-5')
  const [timezone, setTimezone] = useState(schedule?.timezone ?? browserZone())
  const [enabled, setEnabled] = useState(schedule?.enabled ?? true)
  const [source, setSource] = useState<Source>(schedule?.source ?? 'published')
  const zones = useMemo(timeZones, [])
  const cron = cronOf(preset, time, custom)
  const preview = useCronPreview(workflowId, cron, timezone)
  const save = useAction()
  useEffect(() => { save.clear() }, [cron, timezone]) // eslint-disable-line react-hooks/exhaustive-deps
  // The preview's refusal while typing, else the save's: both name the field they are about.
  const refusal = save.refusal ?? preview.refusal
  const bad = (f: string) => refusal?.field === f || undefined
  const id = (x: string) => `schedule-${schedule?.id ?? 'new'}-${x}`

  const submit = async (e: React.FormEvent) => {
    e.preventDefault()
    const body = { cron, timezone, enabled, source }
    const ok = await save.run(() => schedule ? triggersApi.updateSchedule(workflowId, schedule.id, body) : triggersApi.createSchedule(workflowId, body))
    if (ok) onSaved()
  }

  return (
    <form className="trigger-form" onSubmit={submit} data-testid="schedule-form" aria-label={schedule ? 'Edit schedule' : 'New schedule'}>
      <label className="field-label" htmlFor={id('preset')}>Repeat</label>
      <select id={id('preset')} className="input" value={preset} data-testid="schedule-preset"
        onChange={(e) => { const p = e.target.value as Preset; if (p === 'custom') setCustom(cron); setPreset(p) }}>
        {PRESETS.map((p) => <option key={p.value} value={p.value}>{p.label}</option>)}
      </select>
      {(preset === 'daily' || preset === 'weekdays') && <>
        <label className="field-label" htmlFor={id('time')}>At (HH:MM)</label>
        <input id={id('time')} type="time" className="input" value={time} required data-testid="schedule-time" onChange={(e) => setTime(e.target.value)} />
      </>}
      <label className="field-label" htmlFor={id('cron')}>Cron (minute hour day month weekday)</label>
      <input id={id('cron')} className={`input mono${bad('cron') ? ' invalid' : ''}`} value={cron} aria-invalid={bad('cron')}
        aria-describedby={bad('cron') ? id('problem') : undefined} data-testid="schedule-cron" spellCheck={false}
        onChange={(e) => { setPreset('custom'); setCustom(e.target.value) }} />
      <label className="field-label" htmlFor={id('tz')}>Time zone</label>
      <input id={id('tz')} className={`input${bad('timezone') ? ' invalid' : ''}`} value={timezone} list={id('zones')} aria-invalid={bad('timezone')}
        aria-describedby={bad('timezone') ? id('problem') : undefined} data-testid="schedule-timezone" spellCheck={false}
        onChange={(e) => setTimezone(e.target.value)} />
      <datalist id={id('zones')}>{zones.map((z) => <option key={z} value={z} />)}</datalist>
      <div id={id('problem')}><ProblemNote refusal={refusal} testId="schedule-problem" /></div>
      <div className="trigger-inline">
        <label><input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} data-testid="schedule-enabled" /> On</label>
        <label htmlFor={id('source')}>Runs</label>
        <select id={id('source')} className="input compact" value={source} onChange={(e) => setSource(e.target.value as Source)} data-testid="schedule-source">
          <option value="published">the published version</option><option value="draft">the draft</option>
        </select>
      </div>
      <div className="fire-times" data-testid="schedule-preview" aria-live="polite">
        <h4 className="field-label">Next five fire times ({timezone})</h4>
        {preview.times === null ? <p className="muted small">{preview.refusal ? 'None: see the problem above.' : 'Computing…'}</p>
          : preview.times.length === 0 ? <p className="muted small">This cron never fires.</p>
          : <ol>{preview.times.map((t) => <li key={t} className="mono small" data-testid="schedule-preview-time">{fireTime(t, timezone)}</li>)}</ol>}
      </div>
      <div className="trigger-actions">
        <button type="submit" className="btn primary" disabled={save.busy} data-testid="schedule-save">{schedule ? 'Save schedule' : 'Add schedule'}</button>
        <button type="button" className="btn" onClick={onCancel} data-testid="schedule-cancel">Cancel</button>
      </div>
    </form>
  )
}
