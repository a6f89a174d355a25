// The template gallery: search, category and tag filters, a read-only preview, import through a
// form generated from the template's parameter schema, import from a file or pasted JSON.
import { useEffect, useMemo, useState } from 'react'
import type { Me } from '../api/types'
import { navigate } from '../router'
import { Icon } from '../canvas/icons'
import { SchemaForm } from '../forms/SchemaForm'
import { templatesApi, type Template, type TemplateList } from './api'
import { TemplatePreview } from './Preview'
import { keepImportFindings } from '../credentials/importFindings'

function setAt(obj: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
  const root: any = Array.isArray(obj) ? [...obj] : { ...obj }
  let cur = root
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      if (value === undefined) delete cur[key]; else cur[key] = value
    } else {
      const next = cur[key]
      cur[key] = Array.isArray(next) ? [...next] : typeof next === 'object' && next ? { ...next } : (typeof path[i + 1] === 'number' ? [] : {})
      cur = cur[key]
    }
  })
  return root
}

// "schedule 0 3 * * * (UTC)" or "schedule: cron from parameter schedule": what an import creates.
const source = (v: unknown) => (typeof v === 'string' ? v : `parameter “${(v as any)?.$param}”`)
function triggerLines(t: Template): string[] {
  return ((t.document?.triggers as any[]) ?? []).map((x) => x.type === 'schedule'
    ? `Schedule: cron ${source(x.cron)}, time zone ${source(x.timezone ?? 'UTC')}; created disabled, turn it on once the workflow is published`
    : `Webhook URL${x.allow_token ? ' (token allowed)' : ''}; its secret is shown once, in the import answer`)
}

function defaults(schema: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, p] of Object.entries<any>(schema.properties ?? {})) if (p && 'default' in p) out[k] = p.default
  return out
}

export function Gallery({ me }: { me: Me }) {
  const [list, setList] = useState<TemplateList | null>(null)
  const [q, setQ] = useState('')
  const [category, setCategory] = useState('')
  const [tag, setTag] = useState('')
  const [selected, setSelected] = useState<Template | null>(null)
  const [params, setParams] = useState<Record<string, unknown>>({})
  const [name, setName] = useState('')
  const [errors, setErrors] = useState<Record<string, string[]>>({})
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [pasting, setPasting] = useState(false)
  const [pasted, setPasted] = useState('')
  const [secretCount, setSecretCount] = useState(0)
  const canEdit = me.role !== 'viewer'

  const load = () => templatesApi.list(q, category, tag).then(setList).catch((e) => setError(e.message))
  useEffect(() => { const t = setTimeout(load, 150); return () => clearTimeout(t) }, [q, category, tag])
  useEffect(() => { document.title = 'Templates · Maily Flow' }, [])

  const open = async (id: string) => {
    setError(null); setErrors({})
    try {
      const t = await templatesApi.get(id)
      setSelected(t); setParams(defaults(t.parameters)); setName(t.title)
    } catch (e) { setError((e as Error).message) }
  }
  const doImport = async () => {
    if (!selected) return
    setBusy(true); setError(null); setErrors({})
    try {
      const wf = await templatesApi.importTemplate(selected.id, params, name.trim() || undefined)
      keepImportFindings(wf.id, wf.findings) // the canvas offers to move them into credentials
      navigate(`/workflows/${wf.id}`)
    } catch (e: any) {
      const list = (e.body?.errors ?? []) as { field?: string; pointer?: string; message: string }[]
      const byField: Record<string, string[]> = {}
      for (const x of list) {
        const ptr = (x.pointer ?? '').replace(/^\/params/, '') || `/${x.field ?? ''}`
        ;(byField[ptr] ??= []).push(x.message)
      }
      setErrors(byField); setError(e.message)
    } finally { setBusy(false) }
  }
  const uploadText = async (text: string) => {
    setError(null)
    try {
      const t = await templatesApi.upload(text)
      setSecretCount(t.findings?.length ?? 0)
      setPasting(false); setPasted(''); await load(); await open(t.id)
    } catch (e) { setError((e as Error).message) }
  }
  const onFile = async (f: File | undefined) => { if (f) await uploadText(await f.text()) }
  const remove = async (t: Template) => {
    if (!window.confirm(`Delete the template “${t.title}”? Workflows made from it keep working.`)) return
    try { await templatesApi.remove(t.id); setSelected(null); await load() } catch (e) { setError((e as Error).message) }
  }
  const share = async (t: Template, visibility: string) => {
    try { setSelected({ ...(await templatesApi.update(t.id, { visibility })) }); await load() } catch (e) { setError((e as Error).message) }
  }
  const aiNodes = useMemo(() => new Set(selected?.ai_enhancement_points.map((p) => p.node) ?? []), [selected])

  return (
    <div className="page">
      <header className="app-header">
        <div className="brand"><span className="logo">M</span> Maily Flow</div>
        <a href="/" className="btn small" data-testid="gallery-back">Workflows</a>
        <div className="grow" />
        <span className="muted small">{me.name || me.email} · {me.role}</span>
      </header>
      <main className="list-page tpl-page" data-testid="template-gallery">
        <div className="list-head">
          <h1>Templates</h1>
          <div className="grow" />
          <input className="input search" placeholder="Search templates" aria-label="Search templates" value={q} onChange={(e) => setQ(e.target.value)} data-testid="template-search" />
          <select className="input tpl-select" aria-label="Category" value={category} onChange={(e) => setCategory(e.target.value)} data-testid="template-category">
            <option value="">All categories</option>
            {list?.categories.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
          <select className="input tpl-select" aria-label="Tag" value={tag} onChange={(e) => setTag(e.target.value)} data-testid="template-tag">
            <option value="">All tags</option>
            {list?.tags.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
          {canEdit && <>
            <label className="btn" data-testid="template-upload-label">Import file
              <input type="file" accept="application/json,.json" hidden data-testid="template-upload-file" onChange={(e) => onFile(e.target.files?.[0])} />
            </label>
            <button className="btn" onClick={() => setPasting(!pasting)} data-testid="template-paste-toggle">Paste JSON</button>
          </>}
        </div>
        {pasting && (
          <div className="tpl-paste">
            <textarea className="input mono" rows={8} aria-label="Template JSON" value={pasted} onChange={(e) => setPasted(e.target.value)}
              placeholder='{"format_version": 3, "id": "...", ...} or a graph document' data-testid="template-paste-input" />
            <button className="btn primary" onClick={() => uploadText(pasted)} disabled={!pasted.trim()} data-testid="template-paste-submit">Import</button>
          </div>
        )}
        {error && <div className="problem error" data-testid="template-error">{error}</div>}
        {secretCount > 0 && (
          <div className="problem warning" role="status" data-testid="template-secrets">
            This template carries {secretCount} secret-looking value{secretCount === 1 ? '' : 's'} (a token or a key). A workflow made
            from it offers to move {secretCount === 1 ? 'it' : 'them'} into credentials.
          </div>
        )}
        <div className="tpl-layout">
          <div className="tpl-grid" data-testid="template-list">
            {list === null ? <p className="muted">Loading…</p> : list.items.length === 0 ? <p className="muted">No template matches.</p> :
              list.items.map((t) => (
                <button key={t.id} className={`tpl-card${selected?.id === t.id ? ' on' : ''}`} onClick={() => open(t.id)} data-testid={`template-card-${t.id}`}>
                  <div className="tpl-card-head"><span className="tpl-icon" data-testid={`template-icon-${t.id}`} data-icon={t.icon}><Icon name={t.icon} size={18} /></span><b>{t.title}</b></div>
                  <div className="muted small tpl-desc">{t.description}</div>
                  <div className="tpl-tags">
                    <span className="pill">{t.category}</span>
                    {t.ai_enhancements > 0 && <span className="pill tpl-ai"> AI × {t.ai_enhancements}</span>}
                    {!t.builtin && <span className="pill">{t.visibility}</span>}
                    <span className="muted small">v{t.version} · {t.node_count} nodes</span>
                  </div>
                </button>
              ))}
          </div>
          {selected && (
            <aside className="tpl-detail" data-testid="template-detail">
              <div className="tpl-detail-head">
                <h2 data-testid="template-title">{selected.title}</h2>
                <span className="muted small">v{selected.version}{selected.builtin ? ' · built-in' : ` · ${selected.visibility}`}</span>
                <div className="grow" />
                <button className="icon-btn" onClick={() => setSelected(null)} data-testid="template-close" title="Close"><Icon name="x" /></button>
              </div>
              <p className="small">{selected.description}</p>
              <TemplatePreview graph={selected.graph} aiNodes={aiNodes} />
              {selected.ai_enhancement_points.length > 0 && (
                <ul className="tpl-ai-list small" data-testid="template-ai-points">
                  {selected.ai_enhancement_points.map((p) => <li key={p.node}>AI: <b>{p.node}</b> ({p.kind}, {p.tier}+): {p.description}</li>)}
                </ul>
              )}
              {triggerLines(selected).length > 0 && (
                <ul className="small" data-testid="template-triggers">
                  {triggerLines(selected).map((line, i) => <li key={i}>{line}</li>)}
                </ul>
              )}
              {selected.editable && (
                <div className="tpl-owner">
                  <select className="input tpl-select" aria-label="Who may use it" value={selected.visibility} onChange={(e) => share(selected, e.target.value)} data-testid="template-visibility">
                    <option value="private">private</option><option value="workspace">workspace</option><option value="public">public</option>
                  </select>
                  <button className="btn small" onClick={() => remove(selected)} data-testid="template-delete">Delete</button>
                </div>
              )}
              {canEdit && (
                <div className="tpl-form" data-testid="template-import-form">
                  <h3>Use this template</h3>
                  <label className="small" htmlFor="template-import-name">Workflow name</label>
                  <input className="input" id="template-import-name" value={name} onChange={(e) => setName(e.target.value)} data-testid="template-import-name" />
                  <SchemaForm schema={selected.parameters} value={params} idPrefix="param" errors={errors}
                    onChange={(path, value) => setParams((p) => setAt(p, path, value))} />
                  <button className="btn primary wide" onClick={doImport} disabled={busy} data-testid="template-import">
                    {busy ? 'Creating…' : 'Create workflow'}
                  </button>
                </div>
              )}
            </aside>
          )}
        </div>
      </main>
    </div>
  )
}
