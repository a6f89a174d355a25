// Graph JSON <-> Y.Doc, exactly per docs/collab.md (mirrors backend/collab/convert.py).
//   meta:  Y.Map  schema_version, name
//   nodes: Y.Map  id -> Y.Map {id, type, type_version, label, position: {x,y} (plain, replaced whole), config: Y.Map}
//   edges: Y.Map  id -> plain {id, source, source_port, target, target_port}
//   notes: Y.Map  id -> Y.Map {id, text, position, width, height, color}
// Serialisation sorts nodes, edges and notes by id; `notes` is left out when there are none;
// other top-level graph keys live in `meta`.
import * as Y from 'yjs'
import type { Graph, GraphEdge, GraphNode, StickyNote } from '../api/types'

/** Transactions made by this user's own edits: the only ones Y.UndoManager tracks. */
export const LOCAL_ORIGIN = { local: true }
/** Whole-document replacements (seeding from REST, restoring a version): not undoable. */
export const SEED_ORIGIN = { seed: true }

export const roots = (doc: Y.Doc) => ({
  meta: doc.getMap<unknown>('meta'),
  nodes: doc.getMap<Y.Map<unknown>>('nodes'),
  edges: doc.getMap<GraphEdge>('edges'),
  notes: doc.getMap<Y.Map<unknown>>('notes'),
})

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
const clone = <T,>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)))

export function nodeToY(node: GraphNode): Y.Map<unknown> {
  const m = new Y.Map<unknown>()
  for (const [k, v] of Object.entries(node)) {
    if (k === 'config') continue
    m.set(k, clone(v))
  }
  const config = new Y.Map<unknown>()
  for (const [k, v] of Object.entries(node.config ?? {})) config.set(k, clone(v))
  m.set('config', config)
  return m
}

export function noteToY(note: StickyNote): Y.Map<unknown> {
  const m = new Y.Map<unknown>()
  for (const [k, v] of Object.entries(note)) m.set(k, clone(v))
  return m
}

const NODE_ORDER = ['id', 'type', 'type_version', 'position', 'label', 'config']
const ordered = (keys: string[], order: string[]) => [...order.filter((k) => keys.includes(k)), ...keys.filter((k) => !order.includes(k)).sort()]

export function yToNode(m: Y.Map<unknown>): GraphNode {
  const out: Record<string, unknown> = {}
  for (const k of ordered([...m.keys()], NODE_ORDER)) { const v = m.get(k); out[k] = v instanceof Y.Map ? v.toJSON() : clone(v) }
  if (!out.config) out.config = {}
  return out as unknown as GraphNode
}

const ORIGIN = { x: 0, y: 0 }
const nodeComplete = (n: GraphNode) => n.type_version !== undefined && !!n.position && !!n.config
const edgeComplete = (e: GraphEdge) => e.source_port !== undefined && e.target_port !== undefined
const noteComplete = (s: StickyNote) => !!s.position && s.width !== undefined && s.height !== undefined && s.color !== undefined
/**
 * The graph with the schema's defaults (flows/graph.py) filled in where a saved graph leaves them out: a
 * template or an API client may send `{"id": "start", "type": "trigger.manual"}`, and the server stores it
 * as sent. The same object when nothing is missing, so the canvas's memos keep their inputs.
 */
export function withDefaults(g: Graph): Graph {
  const notes = g.notes ?? []
  if (g.nodes.every(nodeComplete) && g.edges.every(edgeComplete) && notes.every(noteComplete)) return g
  return {
    ...g,
    nodes: g.nodes.map((n) => (nodeComplete(n) ? n
      : { ...n, type_version: n.type_version ?? 1, position: n.position ?? ORIGIN, config: n.config ?? {} })),
    edges: g.edges.map((e) => (edgeComplete(e) ? e
      : { ...e, source_port: e.source_port ?? 'output', target_port: e.target_port ?? 'input' })),
    ...(g.notes ? { notes: notes.map((s) => (noteComplete(s) ? s
      : { ...s, position: s.position ?? ORIGIN, width: s.width ?? 220, height: s.height ?? 140, color: s.color ?? 'yellow' })) } : {}),
  }
}

export function yToNote(m: Y.Map<unknown>): StickyNote {
  return m.toJSON() as StickyNote
}

const LISTS = new Set(['nodes', 'edges', 'notes'])

/** JSON equality (1 == 1.0 comes for free in JavaScript). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a), kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k) => k in b && same((a as any)[k], (b as any)[k]))
}

/** Set only the keys whose value differs, delete the keys that are gone; `nested` keys are Y.Maps. */
function syncMap(target: Y.Map<unknown>, wanted: Record<string, unknown>, nested: string[] = []) {
  for (const k of [...target.keys()]) if (!(k in wanted)) target.delete(k)
  for (const [k, v] of Object.entries(wanted)) {
    const cur = target.get(k)
    if (nested.includes(k) && v && typeof v === 'object' && !Array.isArray(v)) {
      if (cur instanceof Y.Map) syncMap(cur, v as Record<string, unknown>)
      else { const m = new Y.Map<unknown>(); target.set(k, m); syncMap(m, v as Record<string, unknown>) }
    } else if (!target.has(k) || cur instanceof Y.Map || !same(cur, v)) target.set(k, clone(v))
  }
}

/**
 * Make the document hold `graph` with the fewest edits, in one transaction (mirrors
 * backend/collab/convert.py apply_graph): a concurrent edit of another field survives it.
 * Top-level keys other than nodes/edges/notes live in `meta`.
 */
export function graphToDoc(graph: Graph, doc: Y.Doc, origin: unknown = SEED_ORIGIN): void {
  const { meta, nodes, edges, notes } = roots(doc)
  const index = <T extends { id: string }>(list: T[] | undefined) => new Map((list ?? []).map((x) => [x.id, x]))
  doc.transact(() => {
    syncMap(meta, Object.fromEntries(Object.entries(graph).filter(([k]) => !LISTS.has(k))))
    const ns = index(graph.nodes), es = index(graph.edges), ts = index(graph.notes)
    for (const k of [...nodes.keys()]) if (!ns.has(k)) nodes.delete(k)
    for (const [id, n] of ns) {
      const cur = nodes.get(id)
      if (cur instanceof Y.Map) syncMap(cur, { ...n, config: n.config ?? {} }, ['config'])
      else nodes.set(id, nodeToY(n))
    }
    for (const k of [...edges.keys()]) if (!es.has(k)) edges.delete(k)
    for (const [id, e] of es) if (!edges.has(id) || !same(edges.get(id), e)) edges.set(id, clone(e))
    for (const k of [...notes.keys()]) if (!ts.has(k)) notes.delete(k)
    for (const [id, t] of ts) {
      const cur = notes.get(id)
      if (cur instanceof Y.Map) syncMap(cur, t as unknown as Record<string, unknown>)
      else notes.set(id, noteToY(t))
    }
  }, origin)
}

export function docToGraph(doc: Y.Doc): Graph {
  const { meta, nodes, edges, notes } = roots(doc)
  const extra = Object.fromEntries([...meta.keys()].sort().filter((k) => k !== 'schema_version' && k !== 'name').map((k) => [k, clone(meta.get(k))]))
  const graph: Graph = {
    schema_version: (meta.get('schema_version') as 1) ?? 1,
    name: (meta.get('name') as string) ?? 'Untitled',
    ...extra,
    nodes: [...nodes.values()].map(yToNode).sort(byId),
    edges: [...edges.values()].map((e) => clone(e)).sort(byId),
  }
  const ns = [...notes.values()].map(yToNote).sort(byId)
  if (ns.length) graph.notes = ns
  return graph
}

/** True when the document was never filled (no schema_version and nothing in it). */
export function isEmptyDoc(doc: Y.Doc): boolean {
  const { meta, nodes, edges, notes } = roots(doc)
  return !meta.has('schema_version') && nodes.size === 0 && edges.size === 0 && notes.size === 0
}
