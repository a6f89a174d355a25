// The Run button's form: input from the trigger's input_schema (or a JSON editor), draft or a published version.
import { useMemo, useState } from 'react'
import type { GraphNode, JsonSchema, VersionSummary } from '../api/types'
import { SchemaForm } from '../forms/SchemaForm'
import { setIn } from '../forms/schema'
import { Dialog } from '../ui/Dialog'

interface Props {
  trigger: GraphNode | undefined
  versions: VersionSummary[]
  busy: boolean
  error: string | null
  onRun: (input: Record<string, unknown>, version: number | null) => void
  onClose: () => void
}

export function RunDialog({ trigger, versions, busy, error, onRun, onClose }: Props) {
  const schema = trigger?.config?.input_schema as JsonSchema | null | undefined
  const sample = (trigger?.config?.sample ?? {}) as Record<string, unknown>
  const usable = !!schema && schema.type === 'object' && !!schema.properties
  const [mode, setMode] = useState<'form' | 'json'>(usable ? 'form' : 'json')
  const [value, setValue] = useState<Record<string, unknown>>(sample)
  const [text, setText] = useState(() => JSON.stringify(sample, null, 2))
  const [version, setVersion] = useState<number | null>(null)
  const parsed = useMemo(() => {
    try { const v = JSON.parse(text || '{}'); return v && typeof v === 'object' && !Array.isArray(v) ? { v } : { err: 'the input must be a JSON object' } }
    catch (e) { return { err: String((e as Error).message) } }
  }, [text])

  const submit = () => {
    if (mode === 'json') { if (parsed.v) onRun(parsed.v, version) } else onRun(value, version)
  }
  return (
    <Dialog title="Run workflow" onClose={onClose} testId="run-dialog">
        <div className="field">
          <label className="field-label" htmlFor="run-version">Graph</label>
          <select className="input" id="run-version" value={version ?? ''} data-testid="run-version"
            onChange={(e) => setVersion(e.target.value ? Number(e.target.value) : null)}>
            <option value="">Draft (what you see)</option>
            {versions.map((v) => <option key={v.version} value={v.version}>Version {v.version}{v.note ? ` — ${v.note}` : ''}</option>)}
          </select>
        </div>
        <div className="tabs small">
          <button className={mode === 'form' ? 'on' : ''} disabled={!usable} onClick={() => { setValue(parsed.v ?? value); setMode('form') }}>Form</button>
          <button className={mode === 'json' ? 'on' : ''} onClick={() => { setText(JSON.stringify(value, null, 2)); setMode('json') }} data-testid="run-input-json-tab">JSON</button>
        </div>
        {!trigger && <p className="problem warning">No trigger node: add a “Manual trigger” to run this workflow.</p>}
        {mode === 'form' && usable ? (
          <SchemaForm schema={schema!} value={value} idPrefix="run-input"
            onChange={(path, v) => setValue((o) => setIn(o, path, v) as Record<string, unknown>)} />
        ) : (
          <>
            <textarea className="input mono" rows={10} aria-label="Input (JSON)" value={text} onChange={(e) => setText(e.target.value)} data-testid="run-input-json" />
            {parsed.err && <div className="field-error">{parsed.err}</div>}
          </>
        )}
        {error && <div className="problem error" data-testid="run-error">{error}</div>}
        <div className="modal-actions">
          <button className="btn" onClick={onClose}>Cancel</button>
          <button className="btn primary" disabled={busy || (mode === 'json' && !!parsed.err)} onClick={submit} data-testid="run-start">
            {busy ? 'Saving and starting…' : 'Run'}
          </button>
        </div>
    </Dialog>
  )
}
