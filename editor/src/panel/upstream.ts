// Where a node's data comes from: its upstream nodes (direct ones first), and the logic.for_each it runs per
// item of, if any (then `item` and `index` are in scope).
import type { Graph, GraphNode, NodeType } from '../api/types'

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

export type SpecOf = (n: GraphNode | undefined) => NodeType | undefined

/** The nearest logic.for_each whose per-item sub-path holds `nodeId` (null: it runs once). */
export function loopOf(graph: Graph, nodeId: string, specOf: SpecOf): string | null {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]))
  const each = (source: string, port: string) => !!specOf(byId.get(source))?.outputs.find((p) => p.name === port)?.each
  const seen = new Set<string>()
  let frontier = [nodeId]
  while (frontier.length) {                      // breadth first: the nearest loop wins
    const next: string[] = []
    for (const id of frontier) {
      for (const e of graph.edges) {
        if (e.target !== id || seen.has(e.source)) continue
        if (each(e.source, e.source_port)) return e.source
        seen.add(e.source)
        next.push(e.source)
      }
    }
    frontier = next
  }
  return null
}
