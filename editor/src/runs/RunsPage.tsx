// The run explorer (/runs): runs across all workflows, filtered by workflow, status, trigger, time and text found
// in their inputs, outputs and errors. A run opens painted on its workflow's canvas, starts again with the same
// input (replay), and two runs compare node by node.
import { useEffect, useMemo, useState } from 'react'
import { api } from '../api/client'
import type { Me, RunSummary, WorkflowSummary } from '../api/types'
import { ago } from '../canvas/RunHistory'
import { AccountMenu } from '../teams/AccountMenu'
import { WorkspaceSwitcher } from '../teams/WorkspaceSwitcher'
import { runsApi, type RunFilters } from './api'
import { RunCompare } from './RunCompare'
import { AppHeader } from '../pages/AppHeader'

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'waiting', 'paused']
const TRIGGERS = ['api', 'manual', 'webhook', 'schedule', 'workflow', 'replay', 'mcp']
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined)

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value)
  useEffect(() => { const t = setTimeout(() => setV(value), ms); return () => clearTimeout(t) }, [value, ms])
  return v
}

export function RunsPage({ me }: { me: Me }) {
  const [workflows, setWorkflows] = useState<WorkflowSummary[]>([])
  const [filters, setFilters] = useState<RunFilters>({})
  const [text, setText] = useState('')
  const q = useDebounced(text.trim(), 300)
  const [runs, setRuns] = useState<RunSummary[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [picked, setPicked] = useState<string[]>([])
  const [comparing, setComparing] = useState<[string, string] | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const canRun = me.role !== 'viewer'
  const names = useMemo(() => Object.fromEntries(workflows.map((w) => [w.id, w.name])), [workflows])

  useEffect(() => { api.listWorkflows().then(setWorkflows).catch(() => setWorkflows([])) }, [])
  const load = () => {
    setError(null)
    return runsApi.search({ ...filters, q: q.length >= 2 ? q : undefined })
      .then(setRuns).catch((e) => { setRuns([]); setError(e.message) })
  }
  useEffect(() => { load() }, [filters, q])

  const set = (key: keyof RunFilters) => (value: string) => setFilters((f) => ({ ...f, [key]: value || undefined }))
  const toggle = (id: string) => setPicked((p) => p.includes(id) ? p.filter((x) => x !== id) : [...p.slice(-1), id])
  const replay = async (r: RunSummary) => {
    setMessage(null)
    try {
      const started = await runsApi.replay(r.id)
      setMessage(`Started run ${started.id.slice(0, 8)} with the same input as ${r.id.slice(0, 8)}.`)
      await load()
    } catch (e) { setMessage((e as Error).message) }
  }

  return (
    <div className="page" data-testid="runs-page">
      <AppHeader>
        <span className="muted small">{me.name || me.email}</span>
        <WorkspaceSwitcher />
        <AccountMenu />
      </AppHeader>
      <main className="list-page runs-page">
        <div className="list-head">
          <a href="/" className="btn" data-testid="runs-back">← Workflows</a>
          <h1>Runs</h1>
          <div className="grow" />
          <button className="btn primary" disabled={picked.length !== 2} data-testid="runs-compare"
            onClick={() => setComparing([picked[0], picked[1]])}>Compare {picked.length}/2</button>
        </div>
        <form className="runs-filters" role="search" aria-label="Filter runs" onSubmit={(e) => { e.preventDefault(); load() }}>
          <input className="input" type="search" aria-label="Search inputs, outputs and errors" placeholder="Search inputs, outputs, errors"
            value={text} onChange={(e) => setText(e.target.value)} data-testid="runs-search" />
          <select className="input" aria-label="Workflow" value={filters.workflow_id ?? ''} onChange={(e) => set('workflow_id')(e.target.value)} data-testid="runs-workflow">
            <option value="">All workflows</option>
            {workflows.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
          </select>
          <select className="input" aria-label="Status" value={filters.status ?? ''} onChange={(e) => set('status')(e.target.value)} data-testid="runs-status">
            <option value="">Any status</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
          <select className="input" aria-label="Trigger" value={filters.trigger ?? ''} onChange={(e) => set('trigger')(e.target.value)} data-testid="runs-trigger">
            <option value="">Any trigger</option>
            {TRIGGERS.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
          <label className="small">From <input className="input" type="datetime-local" onChange={(e) => set('since')(iso(e.target.value) ?? '')} data-testid="runs-since" /></label>
          <label className="small">To <input className="input" type="datetime-local" onChange={(e) => set('until')(iso(e.target.value) ?? '')} data-testid="runs-until" /></label>
        </form>
        {error && <div className="problem error" role="alert" data-testid="runs-error">{error}</div>}
        {message && <div className="small" role="status" data-testid="runs-message">{message}</div>}
        {runs === null ? <p className="muted">Loading…</p> : runs.length === 0 ? (
          <div className="empty-card" data-testid="runs-empty"><p>No run matches.</p></div>
        ) : (
          <div className="wf-table table-scroll" tabIndex={0} role="region" aria-label="Runs">
            <table className="data-table" data-testid="runs-table">
              <thead><tr><th scope="col"><span className="sr-only">Compare</span></th><th scope="col">Status</th><th scope="col">Workflow</th>
                <th scope="col">Trigger</th><th scope="col">Run</th><th scope="col">Started</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id} data-testid={`runs-row-${r.id}`}>
                    <td><input type="checkbox" checked={picked.includes(r.id)} onChange={() => toggle(r.id)}
                      aria-label={`Compare run ${r.id.slice(0, 8)}`} data-testid={`runs-pick-${r.id}`} /></td>
                    <td><span className={`pill state-${r.status}`}>{r.status}</span></td>
                    <td>{r.workflow_id ? names[r.workflow_id] ?? 'deleted workflow' : <span className="muted">graph sent by API</span>}</td>
                    <td>{r.trigger}</td>
                    <td className="mono small">{r.id.slice(0, 8)}</td>
                    <td className="small" title={r.created_at}>{ago(r.created_at)}</td>
                    <td className="row-actions">
                      {r.workflow_id && <a className="btn small" href={`/workflows/${r.workflow_id}/runs/${r.id}`} data-testid={`runs-open-${r.id}`}>Open</a>}
                      {canRun && <button className="btn small" onClick={() => replay(r)} data-testid={`runs-replay-${r.id}`}
                        title="A new run of the same graph with the same input: its emails are sent again">Re-run</button>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {comparing && <RunCompare a={comparing[0]} b={comparing[1]} onClose={() => setComparing(null)} />}
      </main>
    </div>
  )
}
