// "Import from n8n" on the workflow list: a file or pasted JSON of an n8n export goes to
// POST /api/workflows/import/n8n; the report (one line per n8n node) is shown before opening the draft.
import { useState } from 'react'
import { call } from '../api/client'
import { navigate } from '../router'
import { Dialog } from '../ui/Dialog'

interface ReportLine { node: string; n8n_type: string; status: 'mapped' | 'partial' | 'unmapped'; notes: string[] }
interface ImportResult {
  id: string; name: string; report: ReportLine[]
  credentials: { id: string; name: string; type: string; created: boolean }[]
  triggers: { type: string; node_id: string }[]
}

export function N8nImportDialog({ onClose }: { onClose: () => void }) {
  const [text, setText] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<ImportResult | null>(null)

  const submit = async () => {
    setError(null)
    let doc: unknown
    try { doc = JSON.parse(text) } catch (e) { setError(`Not JSON: ${(e as Error).message}`); return }
    setBusy(true)
    try { setResult(await call<ImportResult>('POST', '/workflows/import/n8n', doc)) }
    catch (e) { setError((e as Error).message) }
    finally { setBusy(false) }
  }
  const onFile = async (f: File | undefined) => { if (f) setText(await f.text()) }
  const count = (s: ReportLine['status']) => result?.report.filter((r) => r.status === s).length ?? 0

  return (
    <Dialog title="Import from n8n" onClose={onClose} testId="n8n-import-dialog" wide>
      {result === null ? (
        <>
          <p className="muted small">An n8n workflow export (Download in n8n). Nodes without an equivalent become canvas notes.</p>
          <label className="btn small">Choose file
            <input type="file" accept="application/json,.json" hidden data-testid="n8n-import-file" onChange={(e) => onFile(e.target.files?.[0])} />
          </label>
          <textarea className="input mono" rows={10} aria-label="n8n workflow JSON" value={text} style={{ width: '100%', marginTop: 8 }}
            onChange={(e) => setText(e.target.value)} placeholder='{"name": "...", "nodes": [...], "connections": {...}}' data-testid="n8n-import-input" />
          {error && <div className="problem error" role="alert" data-testid="n8n-import-error">{error}</div>}
          <div className="modal-actions">
            <button className="btn" onClick={onClose}>Cancel</button>
            <button className="btn primary" onClick={submit} disabled={!text.trim() || busy} data-testid="n8n-import-submit">Import</button>
          </div>
        </>
      ) : (
        <>
          <p data-testid="n8n-import-summary">
            “{result.name}”: {count('mapped')} mapped, {count('partial')} partial, {count('unmapped')} kept as notes
            {result.credentials.length > 0 && <> · {result.credentials.length} credential(s) to fill in</>}
            {result.triggers.length > 0 && <> · {result.triggers.length} trigger(s), schedules off</>}
          </p>
          <ul className="n8n-report" data-testid="n8n-import-report">
            {result.report.map((r) => (
              <li key={r.node} data-testid={`n8n-report-${r.node}`} data-status={r.status}>
                <span className={`pill${r.status === 'mapped' ? ' state-succeeded' : r.status === 'unmapped' ? ' state-failed' : ''}`}>{r.status}</span>{' '}
                <strong>{r.node}</strong> <span className="muted small">{r.n8n_type}</span>
                {r.notes.length > 0 && <ul className="muted small">{r.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>}
              </li>
            ))}
          </ul>
          <div className="modal-actions">
            <button className="btn" onClick={onClose}>Close</button>
            <button className="btn primary" onClick={() => navigate(`/workflows/${result.id}`)} data-testid="n8n-import-open">Open workflow</button>
          </div>
        </>
      )}
    </Dialog>
  )
}
