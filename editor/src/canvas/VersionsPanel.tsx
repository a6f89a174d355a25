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
  const [diff, setDiff] = useState<{ from: number; to: number; body: unknown | null; missing?: boolean } | null>(null)

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
  const compare = async (from: number, to: number) => {
    setDiff({ from, to, body: null })
    try { setDiff({ from, to, body: await api.diffVersions(workflowId, from, to) }) }
    catch (e) { setDiff({ from, to, body: null, missing: e instanceof ApiError && e.status === 404 }) }
  }

  return (
    <aside className="side-panel" data-testid="versions-panel">
      <header><div className="grow side-title">Versions</div>
        <button className="icon-btn" onClick={onClose} data-testid="versions-panel-close"><Icon name="x" /></button></header>
      <div className="side-body">
        <div className="publish-box">
          <input className="input" placeholder="What changed? (optional note)" value={note} disabled={readOnly || busy}
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
                data-testid={`version-diff-${v.version}`}>Diff</button>}
              <button className="btn small" disabled={readOnly} onClick={() => restore(v.version)} data-testid={`version-restore-${v.version}`}>Restore</button>
            </div>
          ))}
        </div>
        {diff && (
          <div className="diff" data-testid="version-diff">
            <h5>v{diff.from} → v{diff.to}</h5>
            {diff.missing ? <p className="muted small">Comparing versions is not available on this server yet.</p>
              : diff.body === null ? <p className="muted small">Loading…</p> : <DiffView body={diff.body} />}
          </div>
        )}
      </div>
    </aside>
  )
}

/** The diff endpoint's answer is still being designed: show known lists nicely, anything else as JSON. */
function DiffView({ body }: { body: any }) {
  const sections = ['nodes', 'edges', 'notes'].filter((k) => body && typeof body[k] === 'object')
  if (!sections.length) return <pre className="json">{JSON.stringify(body, null, 2)}</pre>
  return (
    <div>
      {sections.map((k) => (
        <div key={k}>
          <h6>{k}</h6>
          {['added', 'removed', 'changed'].map((kind) => {
            const items = body[k]?.[kind]
            if (!Array.isArray(items) || !items.length) return null
            return <div key={kind} className={`diff-${kind}`}>{kind}: {items.map((x: any) => (typeof x === 'string' ? x : x.id ?? JSON.stringify(x))).join(', ')}</div>
          })}
        </div>
      ))}
    </div>
  )
}
