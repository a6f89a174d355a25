// How a literal secret found in an http.request config (POST /api/credentials/scan) becomes a
// credential: the type the scan suggests, its fields taken from the value ("Bearer x" -> token x,
// "Basic b64" -> username and password, a header or query entry -> its name and value), and the
// config path of the literal to remove once the node points at the new credential.
import type { Finding } from './api'

export interface Move { type: string; data: Record<string, string>; path: string[] }

/** "/headers/X-Api-Key" -> ["headers", "X-Api-Key"] (RFC 6901 unescaping). */
export function pointerPath(pointer: string): string[] {
  return pointer.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function basicPair(encoded: string): { username: string; password: string } | null {
  try {
    const text = atob(encoded.trim())
    const at = text.indexOf(':')
    return at < 0 ? null : { username: text.slice(0, at), password: text.slice(at + 1) }
  } catch { return null }
}

/** What to create for `finding` whose literal is `value`; null when it cannot be moved (not text, an expression). */
export function moveFor(finding: Finding, value: unknown): Move | null {
  const path = pointerPath(finding.field)
  if (typeof value !== 'string' || !value.trim() || value.includes('{{') || !path.length) return null
  const key = path[path.length - 1]
  switch (finding.suggested_type) {
    case 'bearer': {
      const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(value)
      return { type: 'bearer', data: { token: m ? m[1] : value.trim() }, path }
    }
    case 'basic': {
      const m = /^\s*Basic\s+(\S+)\s*$/i.exec(value)
      const pair = m ? basicPair(m[1]) : null
      return pair ? { type: 'basic', data: pair, path } : null
    }
    case 'header': return { type: 'header', data: { name: key, value }, path }
    case 'query': return { type: 'query', data: { name: key, value }, path }
    default: return null
  }
}
