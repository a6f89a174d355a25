// On the canvas page: "update available" (diff + merge) for workflows made from a template, and
// "save as template" for any workflow. Merges go through the server, which edits the shared
// document: this canvas receives the result like any co-editor's edit.
import { useEffect, useState } from 'react'
import type { Me } from '../api/types'
import { templatesApi, type MergeResult, type TemplateTrigger, type TemplateUpdate } from './api'
import { ConflictList, type Choice } from './ConflictList'

function DiffList({ diff }: { diff: any }) {
  const rows: string[] = []
  for (const key of ['nodes', 'edges', 'notes']) {
    const d = diff?.[key]
    if (!d) continue
    for (const a of d.added) rows.push(`+ ${key.slice(0, -1)} ${a.id}${a.label ? ` (${a.label})` : ''}`)
    for (const r of d.removed) rows.push(`− ${key.slice(0, -1)} ${r.id}`)
    for (const c of d.changed) for (const ch of c.changes) rows.push(`~ ${key.slice(0, -1)} ${c.id}${ch.pointer}`)
  }
  for (const c of diff?.document ?? []) rows.push(`~ ${c.pointer}`)
  return <ul className="tpl-diff mono small" data-testid="template-update-diff">{rows.length ? rows.map((r, i) => <li key={i}>{r}</li>) : <li>no changes</li>}</ul>
}

const describe = (t: TemplateTrigger) =>
  t.type === 'schedule' ? `schedule ${t.cron} (${t.timezone})` : `webhook${t.description ? ` “${t.description}”` : ''}`

function TriggerChanges({ added, dropped, testId }: { added: TemplateTrigger[]; dropped: TemplateTrigger[]; testId: string }) {
  if (!added.length && !dropped.length) return null
  return (
    <ul className="tpl-diff small" data-testid={testId}>
      {added.map((t, i) => <li key={`a${i}`}>+ {describe(t)}{t.type === 'schedule' ? ', created off' : ''}</li>)}
      {dropped.map((t, i) => <li key={`d${i}`}>− {describe(t)}: no longer in the template, yours is kept</li>)}
    </ul>
  )
}

export function TemplateBar({ workflowId, workflowName, me }: { workflowId: string; workflowName: string; me: Me }) {
  const [update, setUpdate] = useState<TemplateUpdate | null>(null)
  const [showDiff, setShowDiff] = useState(false)
  const [merged, setMerged] = useState<MergeResult | null>(null)
  const [choices, setChoices] = useState<Record<string, Choice>>({})
  const [saving, setSaving] = useState(false)
  const [title, setTitle] = useState(workflowName)
  const [visibility, setVisibility] = useState('private')
  const [message, setMessage] = useState<string | null>(null)
  const canEdit = me.role !== 'viewer'

  const check = () => templatesApi.templateUpdate(workflowId).then((u) => {
    setUpdate(u)
    // keep only choices that still name a conflict (the draft or the template may have moved on)
    setChoices((c) => Object.fromEntries(Object.entries(c).filter(([p]) => u.conflicts.some((x) => x.pointer === p))))
  }).catch(() => setUpdate(null))
  useEffect(() => { check() }, [workflowId])

  const merge = async () => {
    setMessage(null)
    try {
      const r = await templatesApi.merge(workflowId, choices)
      setMerged(r); setShowDiff(false); setChoices({}); await check()
    } catch (e) { setMessage((e as Error).message); await check() }   // 409: the conflicts changed, shown anew
  }
  const conflictsOf = (list: TemplateUpdate['conflicts']) => list.filter((c) => c.choosable !== false)
  const summary = (r: MergeResult) => {
    const rows = conflictsOf(r.conflicts)
    if (!rows.length) return ' · no conflicts'
    const taken = rows.filter((c) => c.resolution === 'theirs').length
    return ` · ${rows.length} conflict(s): ${taken} took the template’s value, ${rows.length - taken} kept yours`
  }
  const save = async () => {
    try {
      const t = await templatesApi.saveAs({ workflow_id: workflowId, title, visibility })
      setSaving(false); setMessage(`Saved as template “${t.title}” (${t.visibility}).`)
    } catch (e) { setMessage((e as Error).message) }
  }

  return (
    <div className="tpl-bar" data-testid="template-bar">
      {update?.update_available && (
        <div className="tpl-update" data-testid="template-update">
          <span>Template “{update.title}” has v{update.latest_version} (this workflow: v{update.current_version})</span>
          <button className="btn small" onClick={() => setShowDiff(!showDiff)} data-testid="template-update-show">{showDiff ? 'Hide' : 'Changes'}</button>
          {canEdit && <button className="btn small primary" onClick={merge} data-testid="template-update-merge">Merge update</button>}
          {showDiff && <DiffList diff={update.diff} />}
          {update.triggers && <TriggerChanges added={update.triggers.added} dropped={update.triggers.dropped} testId="template-update-triggers" />}
          {conflictsOf(update.conflicts).length > 0 && (
            <div className="problem warning small" data-testid="template-update-conflicts">
              {conflictsOf(update.conflicts).length} conflict(s): you and the template changed the same field.
              Choose per field; “mine” is kept unless you take the template’s.
              <ConflictList conflicts={update.conflicts} choices={choices}
                onChoose={canEdit ? (pointer, choice) => setChoices((c) => ({ ...c, [pointer]: choice })) : undefined} />
            </div>
          )}
        </div>
      )}
      {merged && (
        <div className="tpl-update" data-testid="template-merge-result">
          Merged v{merged.to_version}{summary(merged)}
          <TriggerChanges added={merged.triggers_created ?? []} dropped={merged.triggers_dropped ?? []} testId="template-merge-triggers" />
          {(merged.triggers_created ?? []).filter((t) => t.secret).map((t) => (
            <div key={t.id} className="small" data-testid="template-merge-webhook-secret">Webhook secret (shown once): <span className="mono">{t.secret}</span></div>
          ))}
          <button className="btn small" onClick={() => setMerged(null)}>OK</button>
        </div>
      )}
      {canEdit && (saving ? (
        <div className="tpl-save" data-testid="template-save-form">
          <input className="input" aria-label="Template title" value={title} onChange={(e) => setTitle(e.target.value)} data-testid="template-save-title" />
          <select className="input" aria-label="Who may use it" value={visibility} onChange={(e) => setVisibility(e.target.value)} data-testid="template-save-visibility">
            <option value="private">private</option><option value="workspace">workspace</option><option value="public">public</option>
          </select>
          <button className="btn small primary" onClick={save} data-testid="template-save-submit">Save</button>
          <button className="btn small" onClick={() => setSaving(false)}>Cancel</button>
        </div>
      ) : <button className="btn small" onClick={() => { setSaving(true); setMessage(null) }} data-testid="template-save">Save as template</button>)}
      {message && <span className="small" data-testid="template-bar-message">{message}</span>}
    </div>
  )
}
