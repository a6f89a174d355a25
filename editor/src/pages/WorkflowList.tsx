import { useEffect, useState } from 'react'
import { api } from '../api/client'
import type { Me, WorkflowSummary } from '../api/types'
import { navigate } from '../router'
import { Icon } from '../canvas/icons'
import { ago } from '../canvas/RunHistory'
import { AccountMenu } from '../teams/AccountMenu'
import { WorkspaceSwitcher } from '../teams/WorkspaceSwitcher'
import { AppHeader } from './AppHeader'
import { N8nImportDialog } from './N8nImportDialog'

export function WorkflowList({ me }: { me: Me }) {
  const [items, setItems] = useState<WorkflowSummary[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [renaming, setRenaming] = useState<string | null>(null)
  const [draftName, setDraftName] = useState('')
  const [filter, setFilter] = useState('')
  const [importing, setImporting] = useState(false)
  const canEdit = me.role !== 'viewer'

  const load = () => api.listWorkflows().then(setItems).catch((e) => setError(e.message))
  useEffect(() => { load() }, [])

  const create = async () => {
    try {
      const wf = await api.createWorkflow('Untitled workflow')
      navigate(`/workflows/${wf.id}`)
    } catch (e) { setError((e as Error).message) }
  }
  const rename = async (id: string) => {
    const name = draftName.trim()
    setRenaming(null)
    if (!name) return
    try { await api.updateWorkflow(id, { name }); await load() } catch (e) { setError((e as Error).message) }
  }
  const remove = async (wf: WorkflowSummary) => {
    if (!window.confirm(`Delete “${wf.name}”? Its runs stay readable.`)) return
    try { await api.deleteWorkflow(wf.id); await load() } catch (e) { setError((e as Error).message) }
  }
  const shown = (items ?? []).filter((w) => w.name.toLowerCase().includes(filter.toLowerCase()))

  return (
    <div className="page">
      <AppHeader>
        <span className="muted small" data-testid="me">{me.name || me.email} · {me.tenants.find((t) => t.id === me.tenant_id)?.name ?? ''} · {me.role}</span>
        <WorkspaceSwitcher />
        <AccountMenu />
      </AppHeader>
      <main className="list-page">
        <div className="list-head">
          <h1>Workflows</h1>
          <div className="grow" />
          <input className="input search" placeholder="Filter" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="workflow-filter" />
          <a className="btn" href="/templates" data-testid="open-templates">Templates</a>
          <a className="btn" href="/runs" data-testid="open-runs">Runs</a>
          <a className="btn" href="/outbox" data-testid="open-outbox">Outbox</a>
          {canEdit && <button className="btn" onClick={() => setImporting(true)} data-testid="n8n-import-open-dialog">Import from n8n</button>}
          {canEdit && <button className="btn primary" onClick={create} data-testid="workflow-create"><Icon name="plus" /> New workflow</button>}
        </div>
        {error && <div className="problem error">{error}</div>}
        {items === null ? <p className="muted">Loading…</p> : shown.length === 0 ? (
          <div className="empty-card">
            <p>No workflows yet.</p>
            {canEdit && <button className="btn primary" onClick={create}>Create your first workflow</button>}
          </div>
        ) : (
          <div className="wf-table" data-testid="workflow-list">
            {shown.map((wf) => (
              <div key={wf.id} className="wf-row" data-testid={`workflow-row-${wf.id}`}>
                <div className="wf-main">
                  {renaming === wf.id ? (
                    <input className="input" value={draftName} autoFocus data-testid={`workflow-rename-input-${wf.id}`}
                      onChange={(e) => setDraftName(e.target.value)} onBlur={() => rename(wf.id)}
                      onKeyDown={(e) => { if (e.key === 'Enter') rename(wf.id); if (e.key === 'Escape') setRenaming(null) }} />
                  ) : (
                    <a href={`/workflows/${wf.id}`} className="wf-name" data-testid={`workflow-open-${wf.id}`}>{wf.name}</a>
                  )}
                  <div className="muted small">{wf.description || 'No description'}</div>
                </div>
                <span className={`pill${wf.published_version ? ' state-succeeded' : ''}`}>
                  {wf.published_version ? `v${wf.published_version} published` : 'draft'}
                </span>
                <span className="muted small wf-date">updated {ago(wf.updated_at)}</span>
                {canEdit && (
                  <div className="wf-actions">
                    <button className="btn small" onClick={() => { setRenaming(wf.id); setDraftName(wf.name) }} data-testid={`workflow-rename-${wf.id}`}>Rename</button>
                    <button className="icon-btn danger" title="Delete" onClick={() => remove(wf)} data-testid={`workflow-delete-${wf.id}`}><Icon name="trash" /></button>
                  </div>
                )}
              </div>
            ))}
          </div>
        )}
      </main>
      {importing && <N8nImportDialog onClose={() => { setImporting(false); load() }} />}
    </div>
  )
}
