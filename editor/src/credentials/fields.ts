// Which of a type's fields the form shows, and how: secrets are password inputs that start empty;
// fields the server manages (an OAuth2 token, its expiry) are never typed in.
import type { CredentialType, TypeField } from './api'

const SERVER_MANAGED = new Set(['access_token', 'refresh_token', 'expires_at', 'connected'])
/** Fields that only some values of another field use (oauth2: the authorize URL is for the code grant). */
const ONLY_WHEN: Record<string, [string, string]> = { authorize_url: ['grant_type', 'authorization_code'] }
/** Choices the type definitions name in their descriptions (docs/credentials.md), for a select. */
export const CHOICES: Record<string, string[]> = {
  grant_type: ['authorization_code', 'client_credentials'],
  security: ['starttls', 'tls', 'none'],
  provider: ['openai', 'anthropic', 'compatible'],
}

export type Values = Record<string, string | boolean>

export function shownFields(type: CredentialType | undefined, values: Values): TypeField[] {
  return (type?.fields ?? []).filter((f) => {
    if (SERVER_MANAGED.has(f.name)) return false
    const when = ONLY_WHEN[f.name]
    return !when || (values[when[0]] ?? CHOICES[when[0]]?.[0]) === when[1]
  })
}

export const isBoolean = (f: TypeField) => f.kind === 'boolean' || f.kind === 'bool'
export const isNumber = (f: TypeField) => f.kind === 'integer' || f.kind === 'number' || f.kind === 'int' || f.kind === 'float'

/** The form's starting values: the public fields as stored; secrets always blank. */
export function initialValues(type: CredentialType | undefined, stored: Record<string, unknown> = {}): Values {
  const out: Values = {}
  for (const f of type?.fields ?? []) {
    if (SERVER_MANAGED.has(f.name)) continue
    const v = f.secret ? undefined : stored[f.name]
    if (isBoolean(f)) out[f.name] = Boolean(v)
    else out[f.name] = v === undefined || v === null ? (CHOICES[f.name]?.[0] ?? '') : String(v)
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
