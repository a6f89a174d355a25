// Helpers to read the JSON Schema a node type publishes as its config_schema (pydantic output).
import type { JsonSchema } from '../api/types'

export function resolve(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema {
  let s = schema ?? {}
  for (let i = 0; i < 10 && s.$ref; i++) {
    const path = String(s.$ref).replace(/^#\//, '').split('/')
    let t: any = root
    for (const p of path) t = t?.[p]
    s = { ...t, ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) }
  }
  return s
}

/** `anyOf: [X, {type: null}]` -> X with nullable; other anyOf stay as they are. */
export function unwrapNullable(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const s = resolve(schema, root)
  const alts = s.anyOf as JsonSchema[] | undefined
  if (alts && alts.some((a) => a.type === 'null')) {
    const rest = alts.filter((a) => a.type !== 'null')
    if (rest.length === 1) {
      const { anyOf: _drop, ...outer } = s
      return { schema: { ...outer, ...resolve(rest[0], root) }, nullable: true }
    }
  }
  return { schema: s, nullable: s.type === 'null' }
}

export type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'const' | 'object' | 'map' | 'array' | 'union' | 'any'

export function kindOf(s: JsonSchema): Kind {
  if (s.const !== undefined) return 'const'
  if (Array.isArray(s.enum)) return 'enum'
  if (s.oneOf && s.discriminator) return 'union'
  switch (s.type) {
    case 'string': return 'string'
    case 'number': return 'number'
    case 'integer': return 'integer'
    case 'boolean': return 'boolean'
    case 'array': return s.items ? 'array' : 'any'
    case 'object': return s.properties ? 'object' : 'map'
    default: return 'any'
  }
}

export const titleOf = (name: string, s: JsonSchema) =>
  s.title && s.title !== 'Config' ? s.title : name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase())

/** A starting value for a new array item or a freshly added field. */
export function emptyValue(s: JsonSchema, root: JsonSchema): unknown {
  const r = resolve(s, root)
  if (r.default !== undefined) return r.default
  switch (kindOf(r)) {
    case 'const': return r.const
    case 'enum': return r.enum[0]
    case 'boolean': return false
    case 'number': case 'integer': return 0
    case 'string': return ''
    case 'array': return []
    case 'map': return {}
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [k, p] of Object.entries<JsonSchema>(r.properties)) {
        if ((r.required ?? []).includes(k) || resolve(p, root).const !== undefined) out[k] = emptyValue(p, root)
      }
      return out
    }
    case 'union': return emptyValue(r.oneOf[0], root)
    default: return null
  }
}

/** Fields every node has (from NodeConfig): shown under "Advanced". */
export const ADVANCED = new Set(['retries', 'retry_backoff_s', 'timeout_s', 'on_error'])

/** Any value as editable text: strings as they are, the rest as JSON. And back. */
export const toText = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v, null, 2))
export function fromText(text: string): unknown {
  const t = text.trim()
  if (t === '') return null
  if (/^[[{"\-\d]|^(true|false|null)$/.test(t)) {
    try { return JSON.parse(t) } catch { /* not JSON: keep the text */ }
  }
  return text
}

/** A copy of `root` with the value at `path` replaced (undefined deletes it); creates missing containers. */
/** The value at a path (["values"], ["operations", 0, "condition"]); undefined when it is not there. */
export function getIn(root: unknown, path: (string | number)[]): unknown {
  let v = root
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined
  return v
}

export function setIn(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (!path.length) return value
  const [head, ...rest] = path
  if (typeof head === 'number') {
    const list = Array.isArray(root) ? [...root] : []
    if (value === undefined && !rest.length) list.splice(head, 1)
    else list[head] = setIn(list[head], rest, value)
    return list
  }
  const obj: Record<string, unknown> = root && typeof root === 'object' && !Array.isArray(root) ? { ...(root as Record<string, unknown>) } : {}
  const next = setIn(obj[head], rest, value)
  if (next === undefined) delete obj[head]
  else obj[head] = next
  return obj
}
