// Expressions for data paths, and the shape of JSON data (the panel's schema view and autocomplete).
export type Path = (string | number)[]

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `nodes.shape.output.items[0].name`, `trigger['first name']`: the Jinja access path. */
export function accessPath(base: string, path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : IDENT.test(p) ? `${acc}.${p}` : `${acc}[${JSON.stringify(p)}]`), base)
}

export const expressionFor = (base: string, path: Path) => `{{ ${accessPath(base, path)} }}`

/** The expression base of a node's data: `trigger` for a trigger, `nodes.<id>.output` (its first port), or `.ports.<port>`. */
export function baseFor(nodeId: string, isTrigger: boolean, port: string, primary: boolean): string {
  if (isTrigger) return 'trigger'
  return primary ? `nodes.${nodeId}.output` : accessPath(`nodes.${nodeId}.ports`, [port])
}

export function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v === 'object' ? 'object' : typeof v
}

/** The engine's record of an output over 64 KB (flows/engine.py capped). */
export interface Truncated { truncated: true; bytes: number; preview: string }
export const isTruncated = (v: unknown): v is Truncated =>
  !!v && typeof v === 'object' && (v as Truncated).truncated === true && typeof (v as Truncated).preview === 'string'

export const getPath = (v: unknown, path: Path): unknown =>
  path.reduce<unknown>((acc, p) => (acc && typeof acc === 'object' ? (acc as Record<string | number, unknown>)[p] : undefined), v)

/** Keys available one step below `v`: an object's keys, an array's first item's keys. */
export function keysOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.length && v[0] && typeof v[0] === 'object' && !Array.isArray(v[0]) ? Object.keys(v[0] as object) : []
  return v && typeof v === 'object' ? Object.keys(v as object) : []
}

/** Field names a port declares in its description, e.g. "{sent, already_sent, results}". */
export function declaredKeys(description: string | undefined): string[] {
  const m = description?.match(/\{([^{}]+)\}/)
  return m ? m[1].split(',').map((k) => k.trim()).filter((k) => IDENT.test(k)) : []
}

export interface SchemaRow { path: Path; name: string; type: string; depth: number }

/** Field names and types of a value, depth first (arrays described by their first item), at most `limit` rows. */
export function schemaRows(v: unknown, limit = 200): SchemaRow[] {
  const rows: SchemaRow[] = []
  const walk = (x: unknown, path: Path, depth: number) => {
    if (rows.length >= limit || depth > 8) return
    if (Array.isArray(x)) { if (x.length) walk(x[0], [...path, 0], depth); return }
    if (x && typeof x === 'object') {
      for (const [k, val] of Object.entries(x)) {
        if (rows.length >= limit) return
        rows.push({ path: [...path, k], name: k, type: Array.isArray(val) ? `array (${val.length})` : jsonType(val), depth })
        walk(val, [...path, k], depth + 1)
      }
    }
  }
  walk(v, [], 0)
  return rows
}

export const countLabel = (v: unknown): string =>
  Array.isArray(v) ? `${v.length} item${v.length === 1 ? '' : 's'}` : v && typeof v === 'object' ? `${Object.keys(v).length} field${Object.keys(v).length === 1 ? '' : 's'}` : jsonType(v)
