// On the canvas page: "update available" (diff + merge) for workflows made from a template, and
// "save as template" for any workflow. Merges go through the server, which edits the shared
// document: this canvas receives the result like any co-editor's edit.
import { useEffect, useState } from 'react'
import type { Me } from '../api/types'
import { templatesApi, type MergeResult, type TemplateUpdate } from './api'

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

export function TemplateBar({ workflowId, workflowName, me }: { workflowId: string; workflowName: string; me: Me }) {
  const [update, setUpdate] = useState<TemplateUpdate | null>(null)
  const [showDiff, setShowDiff] = useState(false)
  const [merged, setMerged] = useState<MergeResult | null>(null)
  const [saving, setSaving] = useState(false)
  const [title, setTitle] = useState(workflowName)
  const [visibility, setVisibility] = useState('private')
  const [message, setMessage] = useState<string | null>(null)
  const canEdit = me.role !== 'viewer'

  const check = () => templatesApi.templateUpdate(workflowId).then(setUpdate).catch(() => setUpdate(null))
  useEffect(() => { check() }, [workflowId])

  const merge = async () => {
    try { const r = await templatesApi.merge(workflowId); setMerged(r); setShowDiff(false); await check() }
    catch (e) { setMessage((e as Error).message) }
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
          {showDiff && <>
            <DiffList diff={update.diff} />
            {update.conflicts.length > 0 && <div className="problem warning small">{update.conflicts.length} conflict(s): your values are kept at {update.conflicts.map((c) => c.pointer).join(', ')}</div>}
          </>}
        </div>
      )}
      {merged && (
        <div className="tpl-update" data-testid="template-merge-result">
          Merged v{merged.to_version}{merged.conflicts.length ? ` · ${merged.conflicts.length} conflict(s) kept your values: ${merged.conflicts.map((c) => c.pointer).join(', ')}` : ' · no conflicts'}
          <button className="btn small" onClick={() => setMerged(null)}>OK</button>
        </div>
      )}
      {canEdit && (saving ? (
        <div className="tpl-save" data-testid="template-save-form">
          <input className="input" value={title} onChange={(e) => setTitle(e.target.value)} data-testid="template-save-title" />
          <select className="input" value={visibility} onChange={(e) => setVisibility(e.target.value)} data-testid="template-save-visibility">
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
