// /api/credentials (docs/credentials.md): the workspace's vault. No response carries a secret; the
// editor sends secrets on create and patch only, and never reads one back.
import { ApiError } from '../api/client'
import type { Graph } from '../api/types'

export interface TypeField { name: string; secret: boolean; required: boolean; kind: string; options?: unknown[] | null; default?: unknown }
export interface CredentialType { type: string; title: string; fields: TypeField[] }
export interface UsedBy { workflow_id: string; workflow_name: string; node_ids: string[] }
export interface Credential {
  id: string; name: string; type: string
  /** The non-secret fields (null for viewers). */
  fields?: Record<string, unknown> | null
  created_by?: string | null; created_at?: string; updated_at?: string
  /** On GET one (null in the list). */
  used_by?: UsedBy[] | null
}
export interface TestResult { ok: boolean; message: string }
/** A literal secret-looking value in a graph: `field` is a JSON pointer into the node's config. */
export interface Finding { node_id: string; field: string; kind: 'bearer' | 'basic' | 'key'; suggested_type: string; message: string }

function csrf(): Record<string, string> {
  const m = /(?:^|;\s*)maily_csrf=([^;]*)/.exec(document.cookie)
  return m ? { 'X-CSRF-Token': decodeURIComponent(m[1]) } : {}
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api${path}`, {
    method, credentials: 'same-origin',
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...(method === 'GET' ? {} : csrf()) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let data: any
  try { data = text ? JSON.parse(text) : undefined } catch { data = { detail: text } }
  if (!res.ok) {
    if (res.status === 401) window.dispatchEvent(new Event('maily:unauthorized'))
    throw new ApiError(res.status, data)
  }
  return data as T
}

const one = (id: string) => `/credentials/${encodeURIComponent(id)}`
const items = <T,>(r: T[] | { items: T[] }) => (Array.isArray(r) ? r : r.items)

export const credentialsApi = {
  types: () => call<CredentialType[] | { items: CredentialType[] }>('GET', '/credentials/types').then(items),
  list: () => call<Credential[] | { items: Credential[] }>('GET', '/credentials').then(items),
  get: (id: string) => call<Credential>('GET', one(id)),
  create: (name: string, type: string, data: Record<string, unknown>) => call<Credential>('POST', '/credentials', { name, type, data }),
  update: (id: string, patch: { name?: string; data?: Record<string, unknown> }) => call<Credential>('PATCH', one(id), patch),
  remove: (id: string) => call<void>('DELETE', one(id)),
  test: (id: string, url?: string) => call<TestResult>('POST', `${one(id)}/test`, url ? { url } : {}),
  scan: (graph: Graph) => call<{ findings: Finding[] }>('POST', '/credentials/scan', { graph }).then((r) => r.findings ?? []),
  oauthStart: (id: string) => call<{ authorize_url: string }>('POST', `${one(id)}/oauth/start`),
}

/** The workflows a 409 on delete lists (problem+json), whatever key the server put them under. */
export function usedByOf(err: unknown): UsedBy[] {
  if (!(err instanceof ApiError) || err.status !== 409) return []
  const b = err.body ?? {}
  const list = b.used_by ?? b.workflows ?? b.errors ?? []
  return Array.isArray(list) ? list : []
}
