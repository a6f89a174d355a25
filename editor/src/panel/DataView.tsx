// One node's data as a table, JSON or schema (field names and types), with its item count and a mark when
// the run recorded it truncated. Every field is draggable onto a config field (its expression), and a click
// or Enter on it inserts the expression into the expression field focused last.
import { useState, type ReactNode } from 'react'
import { EXPRESSION_MIME, useExpressionTools } from '../forms/expressions'
import { countLabel, expressionFor, isTruncated, jsonType, schemaRows, type Path } from './paths'

type Mode = 'table' | 'json' | 'schema'
const MAX_ROWS = 50
const MAX_COLUMNS = 12

interface Props { value: unknown; base: string | null; testId: string }

export function DataView({ value, base, testId }: Props) {
  const [mode, setMode] = useState<Mode>('table')
  if (isTruncated(value)) {
    return (
      <div className="data-view" data-testid={testId}>
        <div className="truncated" data-testid={`${testId}-truncated`}>
          Truncated: the run recorded {value.bytes.toLocaleString()} bytes; the first 1 KB is shown.
        </div>
        <pre className="json">{value.preview}</pre>
      </div>
    )
  }
  return (
    <div className="data-view" data-testid={testId}>
      <div className="data-view-head">
        <span className="muted small" data-testid={`${testId}-count`}>{countLabel(value)}</span>
        <div className="io-seg" role="group" aria-label="Show as">
          {(['table', 'json', 'schema'] as Mode[]).map((m) => (
            <button key={m} type="button" className={mode === m ? 'on' : ''} aria-pressed={mode === m} onClick={() => setMode(m)}
              data-testid={`${testId}-mode-${m}`}>{m === 'json' ? 'JSON' : m[0].toUpperCase() + m.slice(1)}</button>
          ))}
        </div>
      </div>
      {mode === 'json' && <pre className="json" tabIndex={0} data-testid={`${testId}-json`}>{JSON.stringify(value, null, 2)}</pre>}
      {mode === 'schema' && <SchemaList value={value} base={base} testId={testId} />}
      {mode === 'table' && <Table value={value} base={base} testId={testId} />}
    </div>
  )
}

/** A field that maps: drag it onto a config field, or press it to insert into the last focused one. */
export function FieldChip({ base, path, children, testId }: { base: string | null; path: Path; children: ReactNode; testId?: string }) {
  const tools = useExpressionTools()
  if (!base) return <span className="mono">{children}</span>
  const expression = expressionFor(base, path)
  return (
    <button type="button" className="field-chip mono" draggable data-testid={testId} data-expression={expression}
      title={`${expression}: drag onto a field, or press to insert it into the field you last edited`}
      onDragStart={(e) => { e.dataTransfer.setData(EXPRESSION_MIME, expression); e.dataTransfer.setData('text/plain', expression); e.dataTransfer.effectAllowed = 'copy' }}
      onClick={() => tools?.lastField.current?.(expression)}>
      {children}
    </button>
  )
}

const cell = (v: unknown) => { const s = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v); return s.length > 120 ? s.slice(0, 120) + '…' : s }

function Table({ value, base, testId }: Props) {
  if (Array.isArray(value) && value.length && value.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
    const rows = value.slice(0, MAX_ROWS) as Record<string, unknown>[]
    const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, MAX_COLUMNS)
    return (
      <div className="io-table-wrap" tabIndex={0} role="region" aria-label="Items">
        <table className="io-table" data-testid={`${testId}-table`}>
          <thead><tr><th scope="col">#</th>{cols.map((c) => <th key={c} scope="col"><FieldChip base={base} path={[0, c]} testId={`${testId}-field-0.${c}`}>{c}</FieldChip></th>)}</tr></thead>
          <tbody>{rows.map((r, i) => <tr key={i}><td>{i}</td>{cols.map((c) => <td key={c}>{cell(r[c])}</td>)}</tr>)}</tbody>
        </table>
        {value.length > MAX_ROWS && <div className="muted small">Showing {MAX_ROWS} of {value.length} items</div>}
      </div>
    )
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).slice(0, MAX_ROWS)
    return (
      <div className="io-table-wrap" tabIndex={0} role="region" aria-label="Fields">
        <table className="io-table kv" data-testid={`${testId}-table`}>
          <thead><tr><th scope="col">Field</th><th scope="col">Value</th></tr></thead>
          <tbody>{entries.map(([k, v]) => (
            <tr key={k}><th scope="row"><FieldChip base={base} path={Array.isArray(value) ? [Number(k)] : [k]} testId={`${testId}-field-${k}`}>{k}</FieldChip></th>
              <td className={`type-${jsonType(v)}`}>{cell(v)}</td></tr>
          ))}</tbody>
        </table>
      </div>
    )
  }
  return <div className="io-table-wrap"><FieldChip base={base} path={[]} testId={`${testId}-field-`}>{cell(value)}</FieldChip></div>
}

function SchemaList({ value, base, testId }: Props) {
  const rows = schemaRows(value)
  if (!rows.length) return <p className="muted small">{jsonType(value)}</p>
  return (
    <ul className="schema-list" data-testid={`${testId}-schema`}>
      {rows.map((r) => (
        <li key={r.path.join('.')} style={{ paddingLeft: r.depth * 14 }}>
          <FieldChip base={base} path={r.path} testId={`${testId}-schema-${r.path.join('.')}`}>{r.name}</FieldChip>
          <em className="muted small">{r.type}</em>
        </li>
      ))}
    </ul>
  )
}
