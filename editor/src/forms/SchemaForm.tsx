// A config form generated from a node type's JSON Schema. Each top-level field is its own doc entry
// (so two people editing different fields both keep their edit); server problems show on the field.
import { useRef, useState } from 'react'
import type { JsonSchema } from '../api/types'
import { ADVANCED, emptyValue, fromText, getIn, kindOf, resolve, setIn, titleOf, toText, unwrapNullable } from './schema'
import { TextInput } from './inputs'
import { CredentialPicker } from '../credentials/CredentialPicker'
import { WorkflowPicker } from './WorkflowPicker'

export type FieldErrors = Record<string, string[]> // config JSON pointer ("/url", "/operations/0/condition") -> messages

/** Set the value at a path inside the config (["url"], ["operations", 0, "condition"]); undefined deletes. */
export type SetAt = (path: (string | number)[], value: unknown) => void
/** The value at a path as it is at the moment of a write (not as it was when the form last rendered). */
export type GetAt = (path: (string | number)[]) => unknown

interface FormProps {
  schema: JsonSchema
  value: Record<string, unknown>
  /** Writes go by path, so a nested edit never rebuilds its parent from a stale copy. */
  onChange: SetAt
  errors?: FieldErrors
  disabled?: boolean
  idPrefix?: string
  /** Where the current value is read at save time (the canvas: the Y.Doc). Default: `value` with this form's own
   * writes applied since it last rendered, so two writes in one frame both count. */
  read?: GetAt
}

export function SchemaForm({ schema, value, onChange, errors = {}, disabled, idPrefix = 'config', read }: FormProps) {
  const [advanced, setAdvanced] = useState(false)
  // The value with our own writes applied, until the next `value` arrives.
  const latest = useRef({ from: value, now: value as unknown })
  if (latest.current.from !== value) latest.current = { from: value, now: value }
  const get: GetAt = (path) => (read ? read(path) : getIn(latest.current.now, path))
  const set: SetAt = (path, v) => { latest.current.now = setIn(latest.current.now, path, v); onChange(path, v) }
  const props = Object.entries<JsonSchema>(schema.properties ?? {})
  const main = props.filter(([k]) => !ADVANCED.has(k))
  const adv = props.filter(([k]) => ADVANCED.has(k))
  const render = ([name, s]: [string, JsonSchema]) => (
    <Field key={name} name={name} schema={s} root={schema} value={value[name]} tokens={[name]} errors={errors}
      required={(schema.required ?? []).includes(name)} disabled={disabled} idPrefix={idPrefix} set={set} get={get} />
  )
  return (
    <div className="schema-form">
      {main.length === 0 && <p className="muted small">This node has no settings.</p>}
      {main.map(render)}
      {adv.length > 0 && (
        <div className="advanced">
          <button type="button" className="link" onClick={() => setAdvanced(!advanced)} data-testid={`${idPrefix}-advanced`}>
            {advanced ? '▾' : '▸'} Advanced (retries, timeout, on error)
          </button>
          {advanced && adv.map(render)}
        </div>
      )}
    </div>
  )
}

interface FieldProps {
  name: string
  schema: JsonSchema
  root: JsonSchema
  value: unknown
  tokens: (string | number)[]
  errors: FieldErrors
  set: SetAt
  get: GetAt
  required?: boolean
  disabled?: boolean
  idPrefix: string
  bare?: boolean
}

function Field(p: FieldProps) {
  const { schema: s, nullable } = unwrapNullable(p.schema, p.root)
  const kind = kindOf(s)
  const msgs = p.errors['/' + p.tokens.join('/')] ?? []
  const tid = `${p.idPrefix}-${p.tokens.join('.')}`
  const onChange = (v: unknown) => p.set(p.tokens, v)
  // The visible label names the control; a bare one (an item of a list) is named by its title.
  const naming: Naming = p.bare ? { label: titleOf(p.name, s) } : { labelledBy: `${tid}-label` }
  const control = <Control {...p} s={s} kind={kind} nullable={nullable} invalid={msgs.length > 0} tid={tid} onChange={onChange} naming={naming} />
  if (p.bare) return <>{control}{msgs.map((m, i) => <div key={i} className="field-error">{m}</div>)}</>
  return (
    <div className={`field field-${kind}${msgs.length ? ' has-error' : ''}`} data-testid={`field-${tid}`}>
      <label className="field-label" id={`${tid}-label`}>
        {titleOf(p.name, s)}{p.required && <span className="req">*</span>}
        {kind === 'any' && <span className="tag">JSON or text</span>}
      </label>
      {control}
      {s.description && <div className="field-help">{s.description}</div>}
      {msgs.map((m, i) => <div key={i} className="field-error" data-testid={`${tid}-error`}>{m}</div>)}
    </div>
  )
}

type Naming = { labelledBy?: string; label?: string }
const aria = (n: Naming) => ({ 'aria-labelledby': n.labelledBy, 'aria-label': n.label })
type ControlProps = FieldProps & { s: JsonSchema; kind: ReturnType<typeof kindOf>; nullable: boolean; invalid: boolean; tid: string; onChange: (v: unknown) => void; naming: Naming }

function Control(p: ControlProps) {
  const { s, kind, value, onChange, disabled, tid, invalid, naming } = p
  // A credential id (nodes/credentials.py credential_field): a picker of the vault's credentials.
  if (Array.isArray(s['x-credential'])) {
    return <CredentialPicker value={value} types={s['x-credential']} onChange={onChange} disabled={disabled} testId={tid} {...naming} />
  }
  // A workflow id ("x-workflow": true, e.g. flow.subworkflow): a picker of the workspace's workflows.
  if (s['x-workflow'] === true) {
    return <WorkflowPicker value={value} onChange={onChange} disabled={disabled} invalid={invalid} testId={tid} {...naming} />
  }
  switch (kind) {
    case 'const':
      return <code className="const">{String(s.const)}</code>
    case 'boolean':
      return (
        <label className="switch">
          <input type="checkbox" data-testid={tid} disabled={disabled} {...aria(naming)}
            checked={value === undefined || value === null ? Boolean(s.default) : Boolean(value)}
            onChange={(e) => onChange(e.target.checked)} />
          <span>{(value ?? s.default) ? 'On' : 'Off'}</span>
        </label>
      )
    case 'enum':
      return (
        <select className={`input${invalid ? ' invalid' : ''}`} data-testid={tid} disabled={disabled} {...aria(naming)}
          value={value === undefined || value === null ? String(s.default ?? '') : String(value)}
          onChange={(e) => onChange(e.target.value === '' ? null : s.enum.find((x: unknown) => String(x) === e.target.value))}>
          {(p.nullable || s.default === undefined) && <option value="">—</option>}
          {s.enum.map((x: unknown) => <option key={String(x)} value={String(x)}>{String(x)}</option>)}
        </select>
      )
    case 'number': case 'integer':
      return (
        <TextInput testId={tid} {...naming} invalid={invalid} disabled={disabled} value={value === undefined || value === null ? '' : String(value)} expressions
          placeholder={s.default !== undefined && s.default !== null ? `default ${s.default}` : p.nullable ? 'default' : ''}
          onCommit={(t) => {
            const v = t.trim()
            if (v === '') return onChange(p.nullable ? null : undefined)
            const n = Number(v)
            onChange(Number.isFinite(n) && !v.includes('{{') ? n : t) // expressions stay text
          }} />
      )
    case 'string':
      return <TextInput testId={tid} {...naming} invalid={invalid} disabled={disabled} value={value == null ? '' : String(value)} expressions
        placeholder={s.default ? `default ${s.default}` : ''} multiline={(s.maxLength ?? 0) > 10000}
        onCommit={(t) => onChange(t === '' && p.nullable ? null : t)} />
    case 'object':
      return <ObjectFields {...p} />
    case 'map':
      return <MapEditor {...p} />
    case 'array':
      return <ArrayEditor {...p} />
    case 'union':
      return <UnionEditor {...p} />
    default:
      return <TextInput testId={tid} {...naming} invalid={invalid} disabled={disabled} mono value={toText(value)} expressions
        multiline={typeof value === 'object' && value !== null} placeholder="JSON value, text or {{ expression }}"
        onCommit={(t) => onChange(fromText(t))} />
  }
}

function ObjectFields(p: ControlProps) {
  const obj = (p.value && typeof p.value === 'object' ? p.value : {}) as Record<string, unknown>
  return (
    <div className="nested">
      {Object.entries<JsonSchema>(p.s.properties ?? {}).map(([k, sub]) => (
        <Field key={k} name={k} schema={sub} root={p.root} value={obj[k]} tokens={[...p.tokens, k]} errors={p.errors}
          required={(p.s.required ?? []).includes(k)} disabled={p.disabled} idPrefix={p.idPrefix} set={p.set} get={p.get} />
      ))}
    </div>
  )
}

const asMap = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as Record<string, unknown>

function MapEditor(p: ControlProps) {
  const entries = Object.entries(asMap(p.value))
  // Every edit starts from the map as it is when it is saved, never from this render's copy: a key renamed
  // and a value typed in the same frame (before the form re-renders) both stay.
  const edit = (change: (rows: [string, unknown][]) => [string, unknown][]) =>
    p.onChange(Object.fromEntries(change(Object.entries(asMap(p.get(p.tokens))))))
  return (
    <div className="map-editor" data-testid={p.tid}>
      {entries.map(([k, v], i) => (
        <div className="kv-row" key={i}>
          <TextInput value={k} placeholder="name" disabled={p.disabled} testId={`${p.tid}.key.${i}`}
            onCommit={(t) => edit((rows) => rows.map((e, j) => (j === i ? [t, e[1]] : e)))} />
          <TextInput value={toText(v)} placeholder="value or {{ expression }}" disabled={p.disabled} testId={`${p.tid}.value.${i}`} expressions label={`${k} value`}
            onCommit={(t) => edit((rows) => rows.map((e, j) => (j === i ? [e[0], fromText(t)] : e)))} />
          <button type="button" className="icon-btn" title="Remove" disabled={p.disabled}
            onClick={() => edit((rows) => rows.filter((_, j) => j !== i))}>×</button>
        </div>
      ))}
      <button type="button" className="link" disabled={p.disabled} data-testid={`${p.tid}.add`}
        onClick={() => edit((rows) => [...rows, [nextKey(Object.fromEntries(rows)), '']])}>+ Add field</button>
    </div>
  )
}
const nextKey = (obj: Record<string, unknown>) => { let i = Object.keys(obj).length + 1; while (`field${i}` in obj) i++; return `field${i}` }

function ArrayEditor(p: ControlProps) {
  const list = Array.isArray(p.value) ? p.value : []
  const item = resolve(p.s.items, p.root)
  const simple = ['string', 'number', 'integer', 'enum', 'any', 'boolean'].includes(kindOf(unwrapNullable(item, p.root).schema))
  const max = p.s.maxItems ?? Infinity
  const current = () => { const v = p.get(p.tokens); return Array.isArray(v) ? v : [] } // at save time, as in MapEditor
  return (
    <div className="array-editor" data-testid={p.tid}>
      {list.map((v, i) => (
        <div key={i} className={simple ? 'array-row' : 'array-card'}>
          <div className="array-body">
            <Field name={`${i + 1}`} schema={p.s.items} root={p.root} value={v} tokens={[...p.tokens, i]} errors={p.errors}
              disabled={p.disabled} idPrefix={p.idPrefix} bare={simple} set={p.set} get={p.get} />
          </div>
          <button type="button" className="icon-btn" title="Remove" disabled={p.disabled}
            onClick={() => p.onChange(current().filter((_, j) => j !== i))}>×</button>
        </div>
      ))}
      {list.length < max && (
        <button type="button" className="link" disabled={p.disabled} data-testid={`${p.tid}.add`}
          onClick={() => p.onChange([...current(), emptyValue(p.s.items, p.root)])}>+ Add {titleOf(p.name, item).toLowerCase()}</button>
      )}
    </div>
  )
}

function UnionEditor(p: ControlProps) {
  const prop = p.s.discriminator.propertyName as string
  const obj = (p.value && typeof p.value === 'object' ? p.value : {}) as Record<string, unknown>
  const mapping = p.s.discriminator.mapping as Record<string, string>
  const current = String(obj[prop] ?? Object.keys(mapping)[0])
  const sub = resolve({ $ref: mapping[current] }, p.root)
  return (
    <div className="union">
      <select className="input" value={current} disabled={p.disabled} data-testid={`${p.tid}.${prop}`} aria-label={titleOf(prop, {})}
        onChange={(e) => p.onChange(emptyValue({ $ref: mapping[e.target.value] }, p.root))}>
        {Object.keys(mapping).map((k) => <option key={k} value={k}>{k}</option>)}
      </select>
      <ObjectFields {...p} s={{ ...sub, properties: Object.fromEntries(Object.entries(sub.properties ?? {}).filter(([k]) => k !== prop)) }} />
    </div>
  )
}
