// A secret (invitation link, API token) shown once, with a Copy button: it is never shown again.
import { useState } from 'react'

export function CopyOnce({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try { await navigator.clipboard.writeText(value); setCopied(true) } catch { setCopied(false) }
  }
  return (
    <div className="copy-once" data-testid={testId}>
      <label className="field-label" htmlFor={`${testId}-value`}>{label}</label>
      <div className="copy-row">
        <input id={`${testId}-value`} className="input mono" readOnly value={value} data-testid={`${testId}-value`}
          onFocus={(e) => e.target.select()} />
        <button type="button" className="btn" onClick={copy} data-testid={`${testId}-copy`}>{copied ? 'Copied' : 'Copy'}</button>
      </div>
      <p className="muted small">Copy it now: it is shown only this once.</p>
    </div>
  )
}
