// A destructive row action that asks first: the button becomes "<question> [verb] [Cancel]", with the
// focus on the confirming button, so a stray click or Enter never removes anything.
import { useState } from 'react'

interface Props {
  /** "Remove", "Delete": the button's text and the confirming one's. */
  verb: string
  /** Who or what: "Ada", "the credential Billing". */
  what: string
  onConfirm: () => void
  disabled?: boolean
  /** [prefix, key]: the button is `prefix-key`, the confirming one `prefix-confirm-key`. */
  testId: [string, string]
}

export function ConfirmButton({ verb, what, onConfirm, disabled, testId: [prefix, key] }: Props) {
  const [asking, setAsking] = useState(false)
  if (!asking) {
    return <button className="btn small" onClick={() => setAsking(true)} disabled={disabled}
      aria-label={`${verb} ${what}`} data-testid={`${prefix}-${key}`}>{verb}</button>
  }
  return (
    <span role="group" aria-label={`${verb} ${what}?`}>
      <span className="small">{verb} {what}? </span>
      <button className="btn small danger" onClick={() => { setAsking(false); onConfirm() }} data-testid={`${prefix}-confirm-${key}`} autoFocus>{verb}</button>
      <button className="btn small" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  )
}
