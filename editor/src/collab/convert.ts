// Graph JSON <-> Y.Doc, exactly per docs/collab.md (mirrors backend/collab/convert.py).
//   meta:  Y.Map  schema_version, name
//   nodes: Y.Map  id -> Y.Map {id, type, type_version, label, position: {x,y} (plain, replaced whole), config: Y.Map}
//   edges: Y.Map  id -> plain {id, source, source_port, target, target_port}
//   notes: Y.Map  id -> Y.Map {id, text, position, width, height, color}
// Serialisation sorts nodes, edges and notes by id; `notes` is left out when there are none.
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

export function yToNode(m: Y.Map<unknown>): GraphNode {
  const out: Record<string, unknown> = {}
  for (const [k, v] of m.entries()) out[k] = v instanceof Y.Map ? v.toJSON() : clone(v)
  if (!out.config) out.config = {}
  return out as unknown as GraphNode
}

export function yToNote(m: Y.Map<unknown>): StickyNote {
  return m.toJSON() as StickyNote
}

/** Fill an empty document (or replace everything in it) with a graph, in one transaction. */
export function graphToDoc(graph: Graph, doc: Y.Doc, origin: unknown = SEED_ORIGIN): void {
  const { meta, nodes, edges, notes } = roots(doc)
  doc.transact(() => {
    for (const k of [...nodes.keys()]) nodes.delete(k)
    for (const k of [...edges.keys()]) edges.delete(k)
    for (const k of [...notes.keys()]) notes.delete(k)
    meta.set('schema_version', graph.schema_version ?? 1)
    meta.set('name', graph.name ?? 'Untitled')
    for (const n of graph.nodes ?? []) nodes.set(n.id, nodeToY(n))
    for (const e of graph.edges ?? []) edges.set(e.id, clone(e))
    for (const s of graph.notes ?? []) notes.set(s.id, noteToY(s))
  }, origin)
}

export function docToGraph(doc: Y.Doc): Graph {
  const { meta, nodes, edges, notes } = roots(doc)
  const graph: Graph = {
    schema_version: (meta.get('schema_version') as 1) ?? 1,
    name: (meta.get('name') as string) ?? 'Untitled',
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
