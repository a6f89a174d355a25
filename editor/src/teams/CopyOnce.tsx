// A secret (invitation link, API token) shown once, with a Copy button: it is never shown again.
// With once={false}, a value that stays (a webhook's URL) with the same Copy button.
import { useState } from 'react'

export function CopyOnce({ label, value, testId, once = true }: { label: string; value: string; testId: string; once?: boolean }) {
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
      {once && <p className="muted small">Copy it now: it is shown only this once.</p>}
    </div>
  )
}
