// The refusal next to the form that caused it; role=alert so a screen reader hears it at once.
import type { Refusal } from './problem'

export function ProblemNote({ refusal, testId }: { refusal: Refusal | null; testId: string }) {
  if (!refusal) return null
  // The API's 422 details already read "field: message"; name the field only when they do not.
  const named = !!refusal.field && !refusal.detail.startsWith(`${refusal.field}:`)
  return (
    <div className="problem error" role="alert" data-testid={testId} data-status={refusal.status} data-field={refusal.field ?? undefined}>
      {named && <strong className="problem-field">{refusal.field}: </strong>}{refusal.detail}
    </div>
  )
}
