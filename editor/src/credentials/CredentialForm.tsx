// Create or edit a credential, with the fields of its type (GET /api/credentials/types). Secret fields
// are password inputs that start empty: on create they are sent once, on edit a blank one keeps the
// stored value. What was typed is dropped as soon as the server has it.
import { useState, type FormEvent } from 'react'
import { Field } from '../teams/Field'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { credentialsApi, type Credential } from './api'
import { choices, dataOf, initialValues, isBoolean, isNumber, label, shownFields, type Values } from './fields'
import { useCredentialTypes } from './useCredentialTypes'

interface Props {
  /** Edit this one (PATCH); without it, create (POST). */
  editing?: Credential
  /** The types one may create here (a node's accepted types); default: every type. */
  allowed?: string[]
  /** Start with these (the secret dialog's suggestion); a name and values for a new credential. */
  preset?: { name?: string; type?: string }
  idPrefix: string
  onSaved: (c: Credential) => void
  onCancel: () => void
}

export function CredentialForm({ editing, allowed, preset, idPrefix, onSaved, onCancel }: Props) {
  const all = useCredentialTypes()
  const types = (all ?? []).filter((t) => !allowed || allowed.includes(t.type))
  const [typeName, setTypeName] = useState(editing?.type ?? preset?.type ?? '')
  const type = types.find((t) => t.type === typeName) ?? (editing ? undefined : types[0])
  const [name, setName] = useState(editing?.name ?? preset?.name ?? '')
  const [values, setValues] = useState<Values | null>(null)
  const shown = values ?? initialValues(type, editing?.fields)
  const act = useAction()
  const set = (k: string, v: string | boolean) => setValues({ ...shown, [k]: v })

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!type) return
    const data = dataOf(type, shown)
    const saved = await act.run(() => editing
      ? credentialsApi.update(editing.id, { name, data })
      : credentialsApi.create(name, type.type, data))
    if (saved) { setValues(null); onSaved(saved) }
  }
  if (all === null) return <p className="muted small">Loading credential types…</p>
  const fieldName = (f: string) => `data.${f}`
  return (
    <form className="credential-form" onSubmit={submit} data-testid={`${idPrefix}-form`} aria-label={editing ? `Edit ${editing.name}` : 'New credential'}>
      <Field id={`${idPrefix}-name`} label="Name" field="name" refusal={act.refusal} value={name} onValue={setName} required autoComplete="off" autoFocus />
      {editing ? <p className="muted small">Type: <span className="pill">{editing.type}</span></p> : (
        <>
          <label className="field-label" htmlFor={`${idPrefix}-type`}>Type</label>
          <select id={`${idPrefix}-type`} className="input" value={type?.type ?? ''} data-testid={`${idPrefix}-type`}
            onChange={(e) => { setTypeName(e.target.value); setValues(null) }}>
            {types.map((t) => <option key={t.type} value={t.type}>{t.title || t.type}</option>)}
          </select>
        </>
      )}
      {shownFields(type, shown).map((f) => {
        const id = `${idPrefix}-${f.name}`
        const bad = act.refusal?.field === fieldName(f.name)
        if (isBoolean(f)) {
          return (
            <label key={f.name} className="check">
              <input type="checkbox" checked={Boolean(shown[f.name])} data-testid={id} onChange={(e) => set(f.name, e.target.checked)} /> {label(f.name)}
            </label>
          )
        }
        const options = choices(f)
        if (options) {
          return (
            <div key={f.name}>
              <label className="field-label" htmlFor={id}>{label(f.name)}</label>
              <select id={id} className={`input${bad ? ' invalid' : ''}`} value={String(shown[f.name] ?? '')} data-testid={id}
                onChange={(e) => set(f.name, e.target.value)}>
                {options.map((c) => <option key={c} value={c}>{c}</option>)}
              </select>
            </div>
          )
        }
        return (
          <div key={f.name}>
            <Field id={id} label={`${label(f.name)}${f.required ? '' : ' (optional)'}`} field={fieldName(f.name)} refusal={act.refusal}
              type={f.secret ? 'password' : isNumber(f) ? 'number' : 'text'} autoComplete={f.secret ? 'new-password' : 'off'}
              value={String(shown[f.name] ?? '')} onValue={(v) => set(f.name, v)}
              required={f.required && !(editing && f.secret)}
              placeholder={f.secret && editing ? 'unchanged (leave blank to keep it)' : undefined} />
          </div>
        )
      })}
      {type && shownFields(type, shown).some((f) => f.secret) && (
        <p className="muted small">Secrets are stored encrypted and never shown again, not even to you.</p>
      )}
      <ProblemNote refusal={act.refusal} testId={`${idPrefix}-error`} />
      <div className="modal-actions">
        <button type="button" className="btn" onClick={onCancel} data-testid={`${idPrefix}-cancel`}>Cancel</button>
        <button className="btn primary" disabled={act.busy || !type} data-testid={`${idPrefix}-save`}>{editing ? 'Save' : 'Create credential'}</button>
      </div>
    </form>
  )
}
