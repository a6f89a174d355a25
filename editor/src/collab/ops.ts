// Every change this user makes to the shared draft, each in one LOCAL_ORIGIN transaction (one undo step).
import * as Y from 'yjs'
import type { Graph, GraphEdge, GraphNode, Position, StickyNote } from '../api/types'
import { LOCAL_ORIGIN, nodeToY, noteToY, roots, yToNode } from './convert'
import { getIn, setIn } from '../forms/schema'
import { renameInValue } from '../panel/references'

const rand = (n = 4) => Math.random().toString(36).slice(2, 2 + n).padEnd(n, '0')
const round = (p: Position): Position => ({ x: Math.round(p.x), y: Math.round(p.y) })

/** A readable id that is still safe when two people add nodes at once: `request_k3f9`. */
export function newNodeId(type: string, taken: (id: string) => boolean): string {
  const base = (type.split('.').pop() || 'node').replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^A-Za-z_]/, 'n')
  let id = `${base}_${rand()}`
  while (taken(id)) id = `${base}_${rand()}`
  return id
}

export const ops = (doc: Y.Doc) => {
  const r = roots(doc)
  const tx = (fn: () => void) => doc.transact(fn, LOCAL_ORIGIN)
  return {
    addNode(type: string, typeVersion: number, position: Position, label: string, config: Record<string, unknown> = {}) {
      const id = newNodeId(type, (x) => r.nodes.has(x))
      tx(() => r.nodes.set(id, nodeToY({ id, type, type_version: typeVersion, position: round(position), label, config })))
      return id
    },
    /** Delete nodes (with every edge touching them), edges and notes, all in one transaction. */
    remove(nodeIds: string[], edgeIds: string[] = [], noteIds: string[] = []) {
      const gone = new Set(nodeIds)
      tx(() => {
        for (const id of nodeIds) r.nodes.delete(id)
        for (const [id, e] of r.edges.entries()) if (gone.has(e.source) || gone.has(e.target)) r.edges.delete(id)
        for (const id of edgeIds) r.edges.delete(id)
        for (const id of noteIds) r.notes.delete(id)
      })
    },
    connect(edge: Omit<GraphEdge, 'id'>) {
      for (const e of r.edges.values()) {
        if (e.source === edge.source && e.source_port === edge.source_port && e.target === edge.target && e.target_port === edge.target_port) return null
      }
      const id = `e_${rand(8)}`
      tx(() => r.edges.set(id, { id, ...edge }))
      return id
    },
    setPositions(positions: Record<string, Position>) {
      const moves = Object.entries(positions).map(([id, p]) => {
        const m = r.nodes.get(id) ?? (id.startsWith('note:') ? r.notes.get(id.slice(5)) : undefined)
        const cur = m?.get('position') as Position | undefined
        const next = round(p)
        return m && (!cur || cur.x !== next.x || cur.y !== next.y) ? ([m, next] as const) : null
      }).filter((x) => x !== null)
      if (moves.length) tx(() => { for (const [m, p] of moves) m.set('position', p) })
    },
    setLabel(id: string, label: string) { tx(() => r.nodes.get(id)?.set('label', label)) },
    setConfigField(id: string, field: string, value: unknown) {
      const config = r.nodes.get(id)?.get('config')
      if (!(config instanceof Y.Map)) return
      tx(() => (value === undefined ? config.delete(field) : config.set(field, JSON.parse(JSON.stringify(value)))))
    },
    /** Set a value inside a node's config by path, from the document's current value (never a stale copy). */
    setConfigPath(id: string, path: (string | number)[], value: unknown) {
      const config = r.nodes.get(id)?.get('config')
      if (!(config instanceof Y.Map) || !path.length) return
      const [field, ...rest] = path as [string, ...(string | number)[]]
      const next = rest.length ? setIn(JSON.parse(JSON.stringify(config.get(field) ?? null)), rest, value) : value
      tx(() => (next === undefined ? config.delete(field) : config.set(field, JSON.parse(JSON.stringify(next)))))
    },
    /** A value inside a node's config by path, as the document holds it now (forms read it at save time). */
    configAt(id: string, path: (string | number)[]): unknown {
      const config = r.nodes.get(id)?.get('config')
      if (!(config instanceof Y.Map) || !path.length) return undefined
      const [field, ...rest] = path as [string, ...(string | number)[]]
      return getIn(config.get(field), rest)
    },
    setName(name: string) { tx(() => r.meta.set('name', name)) },
    /** Pin a node's output ({port: value}; flows/pins.py) in the shared draft, or unpin it (undefined). */
    setPin(id: string, pin: Record<string, unknown> | undefined) {
      const m = r.nodes.get(id)
      if (m) tx(() => (pin === undefined ? m.delete('pin') : m.set('pin', JSON.parse(JSON.stringify(pin)))))
    },
    /** Give a node a new id in one transaction: the node, its edges and every expression naming it (nodes.<id>). */
    renameNode(from: string, to: string): boolean {
      const old = r.nodes.get(from)
      if (!old || from === to || r.nodes.has(to)) return false
      tx(() => {
        const node = yToNode(old)
        r.nodes.delete(from)
        r.nodes.set(to, nodeToY({ ...node, id: to, config: renameInValue(node.config, from, to) }))
        for (const [id, e] of [...r.edges.entries()]) {
          if (e.source === from || e.target === from) {
            r.edges.set(id, { ...e, source: e.source === from ? to : e.source, target: e.target === from ? to : e.target })
          }
        }
        for (const [id, m] of r.nodes.entries()) {
          const config = m.get('config')
          if (id === to || !(config instanceof Y.Map)) continue
          for (const [field, value] of [...config.entries()]) {
            const next = renameInValue(value, from, to)
            if (next !== value) config.set(field, JSON.parse(JSON.stringify(next)))
          }
        }
      })
      return true
    },
    addNote(position: Position) {
      const id = `note_${rand(6)}`
      tx(() => r.notes.set(id, noteToY({ id, text: '', position: round(position), width: 220, height: 140, color: 'yellow' })))
      return id
    },
    updateNote(id: string, fields: Partial<StickyNote>) {
      const m = r.notes.get(id)
      if (m) tx(() => { for (const [k, v] of Object.entries(fields)) m.set(k, v) })
    },
    /** Paste a graph fragment: fresh ids, shifted by `offset`; returns the new node and note ids. */
    paste(fragment: Partial<Graph>, offset: Position) {
      const idMap = new Map<string, string>()
      const newNodes: string[] = []
      const newNotes: string[] = []
      tx(() => {
        for (const n of fragment.nodes ?? []) {
          const id = newNodeId(n.type, (x) => r.nodes.has(x) || [...idMap.values()].includes(x))
          idMap.set(n.id, id)
          const pos = { x: (n.position?.x ?? 0) + offset.x, y: (n.position?.y ?? 0) + offset.y }
          r.nodes.set(id, nodeToY({ ...n, id, position: round(pos), config: n.config ?? {} } as GraphNode))
          newNodes.push(id)
        }
        for (const e of fragment.edges ?? []) {
          const s = idMap.get(e.source), t = idMap.get(e.target)
          if (!s || !t) continue
          const id = `e_${rand(8)}`
          r.edges.set(id, { id, source: s, source_port: e.source_port, target: t, target_port: e.target_port })
        }
        for (const s of fragment.notes ?? []) {
          const id = `note_${rand(6)}`
          r.notes.set(id, noteToY({ ...s, id, position: round({ x: s.position.x + offset.x, y: s.position.y + offset.y }) }))
          newNotes.push(id)
        }
      })
      return { nodes: newNodes, notes: newNotes }
    },
    /** The selected part of the graph as graph JSON (edges only between selected nodes). */
    fragment(nodeIds: string[], noteIds: string[]): Graph {
      const sel = new Set(nodeIds)
      const nodes = nodeIds.map((id) => r.nodes.get(id)).filter(Boolean).map((m) => yToNode(m!))
      const edges = [...r.edges.values()].filter((e) => sel.has(e.source) && sel.has(e.target))
      const notes = noteIds.map((id) => r.notes.get(id)?.toJSON() as StickyNote).filter(Boolean)
      return { schema_version: 1, name: 'clipboard', nodes, edges, ...(notes.length ? { notes } : {}) }
    },
  }
}
export type Ops = ReturnType<typeof ops>
