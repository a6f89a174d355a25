// Past runs of this workflow; opening one paints its node states on the canvas.
import { useEffect, useState } from 'react'
import { api } from '../api/client'
import type { RunSummary } from '../api/types'
import { Icon } from './icons'

export const ago = (iso: string) => {
  const s = (Date.now() - Date.parse(iso.endsWith('Z') || iso.includes('+') ? iso : iso + 'Z')) / 1000
  return s < 60 ? 'just now' : s < 3600 ? `${Math.floor(s / 60)} min ago` : s < 86400 ? `${Math.floor(s / 3600)} h ago` : new Date(iso).toLocaleDateString()
}

export function RunHistory({ workflowId, shownId, refreshKey, onOpen, onClose }: {
  workflowId: string; shownId: string | null; refreshKey: string; onOpen: (id: string) => void; onClose: () => void
}) {
  const [runs, setRuns] = useState<RunSummary[] | null>(null)
  useEffect(() => { api.listRuns(workflowId).then(setRuns).catch(() => setRuns([])) }, [workflowId, refreshKey])
  return (
    <aside className="side-panel" data-testid="runs-panel">
      <header><div className="grow side-title">Runs</div>
        <button className="icon-btn" onClick={onClose} title="Close" aria-label="Close" data-testid="runs-panel-close"><Icon name="x" /></button></header>
      <div className="side-body list">
        {runs === null && <p className="muted small">Loading…</p>}
        {runs?.length === 0 && <p className="muted small">No runs yet. Press Run to start one.</p>}
        {runs?.map((r) => (
          <button key={r.id} className={`list-row${r.id === shownId ? ' on' : ''}`} onClick={() => onOpen(r.id)} data-testid={`run-row-${r.id}`}>
            <span className={`pill state-${r.status}`}>{r.status}</span>
            <span className="grow">{r.workflow_version ? `v${r.workflow_version}` : 'draft'} · <span className="mono small">{r.id.slice(0, 8)}</span></span>
            <span className="muted small">{ago(r.created_at)}</span>
          </button>
        ))}
      </div>
    </aside>
  )
}
