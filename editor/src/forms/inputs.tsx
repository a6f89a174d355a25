// Inputs that keep their own text while focused, so remote/doc updates never move the caret.
import { useEffect, useRef, useState } from 'react'

function useDraft(value: string) {
  const [draft, setDraft] = useState(value)
  const focused = useRef(false)
  useEffect(() => { if (!focused.current) setDraft(value) }, [value])
  return {
    draft, setDraft,
    onFocus: () => { focused.current = true },
    onBlur: () => { focused.current = false; setDraft(value) },
  }
}

interface TextProps {
  value: string
  onCommit: (text: string) => void
  multiline?: boolean
  placeholder?: string
  testId?: string
  invalid?: boolean
  disabled?: boolean
  mono?: boolean
  /** The id of the element naming the field (its visible label), or the name itself. */
  labelledBy?: string
  label?: string
}

export function TextInput({ value, onCommit, multiline, placeholder, testId, invalid, disabled, mono, labelledBy, label }: TextProps) {
  const d = useDraft(value)
  const props = {
    value: d.draft,
    placeholder,
    disabled,
    'data-testid': testId,
    'aria-invalid': invalid || undefined,
    'aria-labelledby': labelledBy,
    'aria-label': label,
    className: `input${mono ? ' mono' : ''}${invalid ? ' invalid' : ''}`,
    onFocus: d.onFocus,
    onBlur: d.onBlur,
    onChange: (e: { target: { value: string } }) => { d.setDraft(e.target.value); onCommit(e.target.value) },
  }
  if (multiline || value.includes('\n')) return <textarea rows={Math.min(12, Math.max(3, d.draft.split('\n').length))} {...props} />
  return <input type="text" {...props} />
}
