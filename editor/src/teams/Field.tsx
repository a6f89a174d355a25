// A labelled input that marks itself invalid when the server's 422 names its field. The password rules
// live on the server alone (no minLength here), so what the person sees is always the server's reason.
import type { InputHTMLAttributes } from 'react'
import type { Refusal } from './problem'

interface Props extends InputHTMLAttributes<HTMLInputElement> {
  id: string
  label: string
  field?: string
  refusal?: Refusal | null
  onValue: (v: string) => void
}

export function Field({ id, label, field, refusal, onValue, className, ...rest }: Props) {
  const bad = !!field && refusal?.field === field
  return (
    <>
      <label className="field-label" htmlFor={id}>{label}</label>
      <input id={id} className={`input${bad ? ' invalid' : ''} ${className ?? ''}`} aria-invalid={bad || undefined}
        data-testid={id} onChange={(e) => onValue(e.target.value)} {...rest} />
    </>
  )
}
