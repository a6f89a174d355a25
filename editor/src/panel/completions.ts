// Autocomplete inside {{ ... }}: the scope a run gives expressions (flows/engine.py) with keys from the
// last run's data, pins and the ports' declared fields, and the sandbox's filters after `|`.
import { getPath, keysOf, type Path } from './paths'

/** Jinja's built-in filters (the sandbox keeps them all, size-guarded: nodes/expressions.py). */
export const FILTERS = [
  'abs', 'attr', 'batch', 'capitalize', 'center', 'count', 'default', 'dictsort', 'escape', 'filesizeformat', 'first',
  'float', 'forceescape', 'format', 'groupby', 'indent', 'int', 'items', 'join', 'last', 'length', 'list', 'lower', 'map',
  'max', 'min', 'pprint', 'random', 'reject', 'rejectattr', 'replace', 'reverse', 'round', 'safe', 'select', 'selectattr',
  'slice', 'sort', 'string', 'striptags', 'sum', 'title', 'tojson', 'trim', 'truncate', 'unique', 'upper', 'urlencode',
  'urlize', 'wordcount', 'wordwrap', 'xmlattr',
]

export interface Suggestion { label: string; insert: string; detail: string }

export interface Scope {
  /** Node id -> label and what its data looks like (pin or last output, primary port), and declared keys. */
  nodes: { id: string; label: string; data: unknown; declared: string[] }[]
  trigger: unknown
  input: unknown
  /** Inside a logic.for_each's per-item sub-path. */
  inLoop: boolean
  item: unknown
}

/** The expression being typed at `caret`, when the caret is inside an open {{ or {%. */
export function openExpression(text: string, caret: number): string | null {
  const before = text.slice(0, caret)
  const open = Math.max(before.lastIndexOf('{{'), before.lastIndexOf('{%'))
  if (open < 0) return null
  const close = Math.max(before.lastIndexOf('}}'), before.lastIndexOf('%}'))
  return close > open ? null : before.slice(open + 2)
}

/** `nodes.shape.output.na` at the caret: the chain before the last dot, and what is typed after it. */
const DOTTED = /([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*|\s*\[\s*(?:\d+|'[^']*'|"[^"]*")\s*\])*)\s*\.\s*(\w*)$/

function parsePath(chain: string): Path {
  const out: Path = []
  for (const m of chain.matchAll(/([A-Za-z_]\w*)|\[\s*(\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]/g)) {
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4])))
  }
  return out
}

/** What to offer for the expression `expr` (the text after the open {{ up to the caret); `replace` is
 * how many characters before the caret a chosen suggestion replaces. */
export function suggest(expr: string, scope: Scope, limit = 30): { items: Suggestion[]; replace: number } {
  const filter = expr.match(/\|\s*(\w*)$/)
  if (filter) {
    const p = filter[1]
    return { items: FILTERS.filter((f) => f.startsWith(p)).slice(0, limit).map((f) => ({ label: f, insert: f, detail: 'filter' })), replace: p.length }
  }
  const m = expr.match(DOTTED)
  const partial = m ? m[2] : (expr.match(/(\w*)$/)?.[1] ?? '')
  const chain = m ? parsePath(m[1]) : null
  const pick = (items: Suggestion[]) => ({ items: items.filter((s) => s.label.startsWith(partial)).slice(0, limit), replace: partial.length })
  if (!chain) {
    const roots: Suggestion[] = [
      { label: 'trigger', insert: 'trigger', detail: 'the run input' },
      { label: 'nodes', insert: 'nodes', detail: 'earlier nodes: nodes.<id>.output' },
      { label: 'input', insert: 'input', detail: "this node's input" },
      { label: 'inputs', insert: 'inputs', detail: 'every input port' },
      { label: 'run', insert: 'run', detail: 'run id, workflow id, trigger' },
      ...(scope.inLoop ? [{ label: 'item', insert: 'item', detail: 'the for_each item' }, { label: 'index', insert: 'index', detail: 'the item number, from 0' }] : []),
    ]
    return pick(roots)
  }
  const [root, ...rest] = chain
  const keys = (v: unknown, extra: string[] = []) => [...new Set([...keysOf(v), ...extra])].map((k) => ({ label: k, insert: k, detail: 'field' }))
  if (root === 'nodes') {
    if (rest.length === 0) return pick(scope.nodes.map((n) => ({ label: n.id, insert: n.id, detail: n.label })))
    const n = scope.nodes.find((x) => x.id === rest[0])
    if (!n) return { items: [], replace: 0 }
    if (rest.length === 1) return pick([{ label: 'output', insert: 'output', detail: 'its first output port' }, { label: 'ports', insert: 'ports', detail: 'every output port' }])
    if (rest[1] === 'output') return pick(keys(getPath(n.data, rest.slice(2)), rest.length === 2 ? n.declared : []))
    return { items: [], replace: 0 }
  }
  if (root === 'trigger') return pick(keys(getPath(scope.trigger, rest)))
  if (root === 'input') return pick(keys(getPath(scope.input, rest)))
  if (root === 'item' && scope.inLoop) return pick(keys(getPath(scope.item, rest)))
  if (root === 'run' && rest.length === 0) return pick(['id', 'workflow_id', 'trigger', 'version'].map((k) => ({ label: k, insert: k, detail: 'run' })))
  return { items: [], replace: 0 }
}
