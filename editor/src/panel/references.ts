// Node ids inside expressions: renaming a node rewrites `nodes.<old>` and `nodes['<old>']` in every
// {{ }} / {% %} block (the same references nodes/expressions.py find_references finds).
const BLOCK = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export function renameInText(text: string, from: string, to: string): string {
  const dotted = new RegExp(`\\bnodes(\\s*\\.\\s*)${escape(from)}\\b(?![\\w-])`, 'g')
  const quoted = new RegExp(`\\bnodes(\\s*\\[\\s*)(['"])${escape(from)}\\2`, 'g')
  return text.replace(BLOCK, (block) => block.replace(dotted, `nodes$1${to}`).replace(quoted, `nodes$1$2${to}$2`))
}

/** A config value with every reference to node `from` pointing at `to` (the same object when none). */
export function renameInValue<T>(value: T, from: string, to: string): T {
  if (typeof value === 'string') { const out = renameInText(value, from, to); return (out === value ? value : out) as T }
  if (Array.isArray(value)) {
    const out = value.map((v) => renameInValue(v, from, to))
    return (out.some((v, i) => v !== value[i]) ? out : value) as T
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    const out = entries.map(([k, v]) => [k, renameInValue(v, from, to)] as const)
    return (out.some(([, v], i) => v !== entries[i][1]) ? Object.fromEntries(out) : value) as T
  }
  return value
}
