// Where a node's data comes from: its upstream nodes (direct ones first), and whether it runs per item of a
// logic.for_each (then `item` and `index` are in scope).
import type { Graph, NodeType } from '../api/types'

export interface Source { id: string; port: string; direct: boolean }

/** Every node upstream of `nodeId`, direct inputs first (in edge order), then the rest nearest first. */
export function upstreamOf(graph: Graph, nodeId: string): Source[] {
  const incoming = new Map<string, { source: string; port: string }[]>()
  for (const e of graph.edges) incoming.set(e.target, [...(incoming.get(e.target) ?? []), { source: e.source, port: e.source_port }])
  const out: Source[] = []
  const seen = new Set([nodeId])
  let frontier = [nodeId]
  let direct = true
  while (frontier.length) {
    const next: string[] = []
    for (const id of frontier) {
      for (const { source, port } of incoming.get(id) ?? []) {
        if (seen.has(source)) continue
        seen.add(source)
        out.push({ id: source, port, direct })
        next.push(source)
      }
    }
    frontier = next
    direct = false
  }
  return out
}

/** True when the node is reached from a for_each's per-item port (it runs once per item). */
export function inLoop(graph: Graph, nodeId: string, specOf: (type: string, version: number) => NodeType | undefined): boolean {
  const types = new Map(graph.nodes.map((n) => [n.id, specOf(n.type, n.type_version)]))
  const each = (source: string, port: string) => !!types.get(source)?.outputs.find((p) => p.name === port)?.each
  const seen = new Set<string>()
  const todo = [nodeId]
  while (todo.length) {
    const id = todo.pop()!
    for (const e of graph.edges) {
      if (e.target !== id || seen.has(e.source)) continue
      if (each(e.source, e.source_port)) return true
      seen.add(e.source)
      todo.push(e.source)
    }
  }
  return false
}
