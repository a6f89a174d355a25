// Inputs that keep their own text while focused, so remote/doc updates never move the caret.
import { useDraft } from './useDraft'
import { useExpressionTools } from './expressions'
import { ExpressionInput } from './ExpressionInput'

export interface TextProps {
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
  /** The field accepts {{ expressions }}: an expression editor where the form has tools for it (the node panel). */
  expressions?: boolean
}

export function TextInput(p: TextProps) {
  const tools = useExpressionTools()
  return p.expressions && tools ? <ExpressionInput {...p} tools={tools} /> : <PlainInput {...p} />
}

function PlainInput({ value, onCommit, multiline, placeholder, testId, invalid, disabled, mono, labelledBy, label }: TextProps) {
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
