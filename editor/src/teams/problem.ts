// A server refusal as the forms show it: the problem+json `detail`, and the field a 422 names.
import { ApiError } from '../api/client'

export interface Refusal { status: number; detail: string; field: string | null }

export function refusalOf(err: unknown): Refusal {
  if (err instanceof ApiError) return { status: err.status, detail: err.body?.detail || err.message, field: err.field }
  return { status: 0, detail: err instanceof Error ? err.message : String(err), field: null }
}
