// How a literal secret found in an http.request config (POST /api/credentials/scan) becomes a
// credential: the type the scan suggests, its fields taken from the value ("Bearer x" -> token x,
// "Basic b64" -> username and password, a header or query entry -> its name and value, a key in the
// URL's query string -> that parameter), and what happens to the literal once the node points at
// the new credential: the header or query entry goes; the URL stays, without that parameter.
// Anything else (a token in a body, a header that is not the whole secret) is left to a person.
import type { Finding } from './api'

export interface Move {
  type: string
  data: Record<string, string>
  /** The config path of the literal. */
  path: string[]
  /** What the field becomes: undefined removes it. */
  value?: string
}

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

/** The URL without its longest query parameter (the key-shaped one), and that parameter. */
function fromUrl(url: string, path: string[]): Move | null {
  let u: URL
  try { u = new URL(url) } catch { return null }
  const params = [...u.searchParams.entries()]
  if (!params.length) return null
  const [name, value] = params.reduce((a, b) => (b[1].length > a[1].length ? b : a))
  u.searchParams.delete(name)
  return { type: 'query', data: { name, value }, path, value: u.toString() }
}

/** What to create for `finding` whose literal is `value`; null when it is not one this can move. */
export function moveFor(finding: Finding, value: unknown): Move | null {
  const path = pointerPath(finding.field)
  if (typeof value !== 'string' || !value.trim() || value.includes('{{')) return null
  const entry = path.length === 2 ? path[0].toLowerCase() : null
  const key = path[1]
  switch (finding.suggested_type) {
    case 'bearer': {
      const m = entry === 'headers' ? /^\s*Bearer\s+(\S+)\s*$/i.exec(value) : null
      return m ? { type: 'bearer', data: { token: m[1] }, path } : null
    }
    case 'basic': {
      const m = entry === 'headers' ? /^\s*Basic\s+(\S+)\s*$/i.exec(value) : null
      const pair = m ? basicPair(m[1]) : null
      return pair ? { type: 'basic', data: pair, path } : null
    }
    case 'header': return entry === 'headers' ? { type: 'header', data: { name: key, value }, path } : null
    case 'query':
      if (entry === 'query') return { type: 'query', data: { name: key, value }, path }
      return path.length === 1 && path[0] === 'url' ? fromUrl(value, path) : null
    default: return null
  }
}
