// A node's credential field ("x-credential": [types] in its config schema): a select of the
// workspace's credentials of those types, "none", and "New credential…", which opens the create
// form in place and selects what it made. The graph keeps only the id.
import './credentials.css'
import { useState } from 'react'
import { CredentialForm } from './CredentialForm'
import { useCredentials } from './useCredentials'

interface Props {
  value: unknown
  types: string[]
  onChange: (id: string | null) => void
  disabled?: boolean
  testId: string
  labelledBy?: string
  label?: string
}

export function CredentialPicker({ value, types, onChange, disabled, testId, labelledBy, label }: Props) {
  const { list, failed, reload } = useCredentials()
  const [creating, setCreating] = useState(false)
  const id = typeof value === 'string' && value ? value : ''
  const usable = (list ?? []).filter((c) => types.includes(c.type))
  const known = !id || usable.some((c) => c.id === id)
  return (
    <div className="credential-picker">
      <div className="picker-row">
        <select className="input" value={id} disabled={disabled} data-testid={testId} aria-labelledby={labelledBy} aria-label={label}
          onChange={(e) => onChange(e.target.value || null)}>
          <option value="">none</option>
          {usable.map((c) => <option key={c.id} value={c.id}>{c.name} ({c.type})</option>)}
          {!known && <option value={id}>{list ? 'a credential not in this workspace' : 'loading…'}</option>}
        </select>
        {!disabled && !creating && (
          <button type="button" className="btn small" onClick={() => setCreating(true)} data-testid={`${testId}-new`}>New credential…</button>
        )}
      </div>
      {failed && <div className="field-error">The credentials could not be loaded.</div>}
      {!known && list && <div className="field-error" data-testid={`${testId}-unknown`}>This credential does not exist here any more: pick another.</div>}
      {creating && (
        <div className="nested" data-testid={`${testId}-create`}>
          <CredentialForm allowed={types} idPrefix={`${testId}-create`} onCancel={() => setCreating(false)}
            onSaved={async (c) => { await reload(); onChange(c.id); setCreating(false) }} />
        </div>
      )}
    </div>
  )
}
