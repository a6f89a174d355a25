// Published versions: publish the draft with a note, restore one into the draft, compare two.
import { useEffect, useState } from 'react'
import { api, ApiError } from '../api/client'
import type { Graph, Problem, VersionSummary } from '../api/types'
import { Icon } from './icons'
import { ago } from './RunHistory'

interface Props {
  workflowId: string
  readOnly: boolean
  beforePublish: () => Promise<void>
  onRestored: (graph: Graph) => void
  onVersions: (v: VersionSummary[]) => void
  onClose: () => void
}

export function VersionsPanel({ workflowId, readOnly, beforePublish, onRestored, onVersions, onClose }: Props) {
  const [versions, setVersions] = useState<VersionSummary[] | null>(null)
  const [note, setNote] = useState('')
  const [busy, setBusy] = useState(false)
  const [problems, setProblems] = useState<Problem[]>([])
  const [message, setMessage] = useState<string | null>(null)
  const [diff, setDiff] = useState<{ from: number; to: number | 'draft'; body: unknown | null; missing?: boolean } | null>(null)

  const load = () => api.listVersions(workflowId).then((v) => { setVersions(v); onVersions(v) }).catch(() => setVersions([]))
  useEffect(() => { load() }, [workflowId]) // eslint-disable-line react-hooks/exhaustive-deps

  const publish = async () => {
    setBusy(true); setProblems([]); setMessage(null)
    try {
      await beforePublish()
      const v = await api.publish(workflowId, note)
      setNote(''); setMessage(`Published version ${v.version}.`); await load()
    } catch (e) {
      if (e instanceof ApiError) { setProblems(e.problems); setMessage(e.message) } else setMessage(String(e))
    } finally { setBusy(false) }
  }
  const restore = async (n: number) => {
    if (!window.confirm(`Replace the draft with version ${n}? Everyone editing sees the change.`)) return
    try { const wf = await api.restore(workflowId, n); onRestored(wf.graph); setMessage(`Restored version ${n} into the draft.`) }
    catch (e) { setMessage(String((e as Error).message)) }
  }
  const compare = async (from: number, to: number | 'draft') => {
    setDiff({ from, to, body: null })
    try { setDiff({ from, to, body: await api.diffVersions(workflowId, from, to) }) }
    catch (e) { setDiff({ from, to, body: e instanceof ApiError && e.status === 404 ? null : { error: (e as Error).message }, missing: e instanceof ApiError && e.status === 404 }) }
  }

  return (
    <aside className="side-panel" data-testid="versions-panel">
      <header><div className="grow side-title">Versions</div>
        <button className="icon-btn" onClick={onClose} title="Close" aria-label="Close" data-testid="versions-panel-close"><Icon name="x" /></button></header>
      <div className="side-body">
        <div className="publish-box">
          <input className="input" placeholder="What changed? (optional note)" aria-label="What changed? (optional note)" value={note} disabled={readOnly || busy}
            onChange={(e) => setNote(e.target.value)} data-testid="publish-note" />
          <button className="btn primary" disabled={readOnly || busy} onClick={publish} data-testid="publish-button">
            {busy ? 'Publishing…' : 'Publish draft'}
          </button>
        </div>
        {message && <p className="small" data-testid="versions-message">{message}</p>}
        {problems.map((p, i) => <div key={i} className={`problem ${p.severity}`}>{p.node_id ? <b>{p.node_id}: </b> : null}{p.message}</div>)}
        <div className="list">
          {versions?.length === 0 && <p className="muted small">Nothing published yet.</p>}
          {versions?.map((v, i) => (
            <div key={v.version} className="list-row static" data-testid={`version-row-${v.version}`}>
              <span className="pill">v{v.version}</span>
              <span className="grow">{v.note || <span className="muted">no note</span>}<br /><span className="muted small">{ago(v.created_at)}</span></span>
              {versions[i + 1] && <button className="btn small" onClick={() => compare(versions[i + 1].version, v.version)}
                title={`Changes from v${versions[i + 1].version} to v${v.version}`} data-testid={`version-diff-${v.version}`}>Diff</button>}
              <button className="btn small" onClick={() => compare(v.version, 'draft')} title={`Changes from v${v.version} to the draft`}
                data-testid={`version-diff-draft-${v.version}`}>vs draft</button>
              <button className="btn small" disabled={readOnly} onClick={() => restore(v.version)} data-testid={`version-restore-${v.version}`}>Restore</button>
            </div>
          ))}
        </div>
        {diff && (
          <div className="diff" data-testid="version-diff">
            <h5>v{diff.from} → {diff.to === 'draft' ? 'draft' : `v${diff.to}`}</h5>
            {diff.missing ? <p className="muted small">Comparing versions is not available on this server yet.</p>
              : diff.body === null ? <p className="muted small">Loading…</p> : <DiffView body={diff.body} />}
          </div>
        )}
      </div>
    </aside>
  )
}

type Change = { pointer: string; op: string; from?: unknown; to?: unknown }
const short = (v: unknown) => { const t = JSON.stringify(v); return t === undefined ? '—' : t.length > 60 ? t.slice(0, 57) + '…' : t }
const nameOf = (x: any) => (typeof x === 'string' ? x : x?.label ? `${x.label} (${x.id})` : x?.source ? `${x.source}.${x.source_port} → ${x.target}.${x.target_port}` : x?.id ?? short(x))

/** GET .../versions/diff: {nodes, edges, notes: {added, removed, changed}, document: [changes]}; anything else as JSON. */
function DiffView({ body }: { body: any }) {
  const sections = ['nodes', 'edges', 'notes'].filter((k) => body && typeof body[k] === 'object')
  if (!sections.length) return <pre className="json">{JSON.stringify(body, null, 2)}</pre>
  const doc: Change[] = Array.isArray(body.document) ? body.document : []
  const empty = !doc.length && sections.every((k) => ['added', 'removed', 'changed'].every((p) => !body[k]?.[p]?.length))
  if (empty) return <p className="muted small">No differences.</p>
  const line = (c: Change, i: number) => (
    <div key={i} className="diff-change mono">{c.pointer}: {c.op === 'add' ? <ins>{short(c.to)}</ins> : c.op === 'remove' ? <del>{short(c.from)}</del> : <><del>{short(c.from)}</del> → <ins>{short(c.to)}</ins></>}</div>
  )
  return (
    <div>
      {doc.length > 0 && <div><h6>document</h6>{doc.map(line)}</div>}
      {sections.map((k) => {
        const d = body[k] ?? {}
        if (!d.added?.length && !d.removed?.length && !d.changed?.length) return null
        return (
          <div key={k}>
            <h6>{k}</h6>
            {(d.added ?? []).map((x: any, i: number) => <div key={`a${i}`} className="diff-added">+ {nameOf(x)}</div>)}
            {(d.removed ?? []).map((x: any, i: number) => <div key={`r${i}`} className="diff-removed">− {nameOf(x)}</div>)}
            {(d.changed ?? []).map((x: any, i: number) => (
              <div key={`c${i}`} className="diff-changed">~ {x.id}{Array.isArray(x.changes) && x.changes.map(line)}</div>
            ))}
          </div>
        )
      })}
    </div>
  )
}
