// Which of a type's fields the form shows, and how: secrets are password inputs that start empty; an
// enum is a select of its options; fields the server manages (an OAuth2 token) are never typed in
// (GET /api/credentials/types leaves them out already).
import type { CredentialType, TypeField } from './api'

const SERVER_MANAGED = new Set(['access_token', 'refresh_token', 'expires_at', 'connected'])
/** Fields that only some values of another field use (oauth2: the authorize URL is for the code grant). */
const ONLY_WHEN: Record<string, [string, string]> = { authorize_url: ['grant_type', 'authorization_code'] }

export type Values = Record<string, string | boolean>

export function shownFields(type: CredentialType | undefined, values: Values): TypeField[] {
  return (type?.fields ?? []).filter((f) => {
    if (SERVER_MANAGED.has(f.name)) return false
    const when = ONLY_WHEN[f.name]
    return !when || values[when[0]] === when[1]
  })
}

export const choices = (f: TypeField): string[] | null => (Array.isArray(f.options) && f.options.length ? f.options.map(String) : null)

export const isBoolean = (f: TypeField) => f.kind === 'boolean'
export const isNumber = (f: TypeField) => f.kind === 'integer' || f.kind === 'number'

/** The form's starting values: the public fields as stored (or the type's defaults); secrets always blank. */
export function initialValues(type: CredentialType | undefined, stored: Record<string, unknown> | null = null): Values {
  const out: Values = {}
  for (const f of type?.fields ?? []) {
    if (SERVER_MANAGED.has(f.name)) continue
    const v = f.secret ? undefined : stored?.[f.name] ?? (stored ? undefined : f.default)
    if (isBoolean(f)) out[f.name] = Boolean(v)
    else out[f.name] = v === undefined || v === null ? (choices(f)?.[0] ?? '') : String(v)
  }
  return out
}

/** The `data` to send: numbers as numbers; a blank field left out (on edit a blank secret keeps its value). */
export function dataOf(type: CredentialType | undefined, values: Values): Record<string, unknown> {
  const data: Record<string, unknown> = {}
  for (const f of shownFields(type, values)) {
    const v = values[f.name]
    if (isBoolean(f)) data[f.name] = Boolean(v)
    else if (typeof v === 'string' && v.trim() !== '') data[f.name] = isNumber(f) && Number.isFinite(Number(v)) ? Number(v) : v
  }
  return data
}

export const label = (name: string) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase())
