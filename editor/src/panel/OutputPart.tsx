// The panel's output part: the node's pinned data or its last run's output (and error), with pinning:
// pin the last output, type or paste JSON (checked against the output ports' types), edit, unpin.
import { useState } from 'react'
import type { NodeData, Port } from '../api/types'
import { DataView } from './DataView'
import { baseFor, isTruncated } from './paths'
import { parsePin, type Pin } from './pins'

interface Props {
  nodeId: string
  isTrigger: boolean
  outputs: Port[]
  pin: Pin | undefined
  last: NodeData | undefined
  readOnly: boolean
  setPin: (pin: Pin | undefined) => void
}

export function OutputPart({ nodeId, isTrigger, outputs, pin, last, readOnly, setPin }: Props) {
  const [editing, setEditing] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const recorded = last?.status === 'succeeded' && last.output && typeof last.output === 'object' ? last.output as Record<string, unknown> : null
  const shown = pin ?? (recorded && !isTruncated(recorded) ? recorded : null)
  const save = () => {
    const parsed = parsePin(editing ?? '', outputs)
    if ('error' in parsed) return setError(parsed.error)
    setPin(parsed.pin); setEditing(null); setError(null)
  }
  const names = shown ? Object.keys(shown) : []
  return (
    <section className="panel-part" aria-labelledby="panel-output-title" data-testid="panel-output" data-pinned={pin ? 'true' : 'false'}>
      <h4 id="panel-output-title">Output {pin && <span className="tag pin-tag" data-testid="output-pinned">pinned</span>}</h4>
      {!readOnly && editing === null && (
        <div className="panel-row-actions">
          {!pin && recorded && !isTruncated(recorded) && <button type="button" className="btn small" data-testid="pin-output" onClick={() => setPin(recorded)}>Pin this output</button>}
          <button type="button" className="btn small" data-testid="pin-edit"
            onClick={() => { setEditing(JSON.stringify(shown ?? { [outputs[0]?.name ?? 'output']: {} }, null, 2)); setError(null) }}>
            {pin ? 'Edit pin' : 'Pin data…'}
          </button>
          {pin && <button type="button" className="btn small" data-testid="pin-remove" onClick={() => setPin(undefined)}>Unpin</button>}
        </div>
      )}
      {editing !== null && (
        <div className="pin-editor">
          <label className="field-label" htmlFor={`pin-json-${nodeId}`}>Pinned data (JSON: output port → value)</label>
          <textarea id={`pin-json-${nodeId}`} className="input mono" rows={8} value={editing} data-testid="pin-json"
            aria-invalid={!!error || undefined} aria-describedby={error ? 'pin-error' : undefined}
            onChange={(e) => setEditing(e.target.value)} />
          {error && <div className="field-error" role="alert" id="pin-error" data-testid="pin-error">{error}</div>}
          <div className="panel-row-actions">
            <button type="button" className="btn small primary" data-testid="pin-save" onClick={save}>Save pin</button>
            <button type="button" className="btn small" onClick={() => { setEditing(null); setError(null) }}>Cancel</button>
          </div>
        </div>
      )}
      {last?.status === 'failed' && !pin && <pre className="json error" data-testid="output-error">{JSON.stringify(last.error, null, 2)}</pre>}
      {recorded && isTruncated(recorded) && !pin && <DataView value={recorded} base={null} testId="output-truncated" />}
      {shown ? names.map((port, i) => (
        <div key={port} className="panel-source">
          {names.length > 1 && <div className="panel-source-head"><span className="mono small">{port}</span></div>}
          <DataView value={shown[port]} base={baseFor(nodeId, isTrigger, port, i === 0)} testId={`output-${port}`} />
        </div>
      )) : !recorded && <p className="muted small">No output yet: run the workflow, execute this node, or pin data.</p>}
    </section>
  )
}
