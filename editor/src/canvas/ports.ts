// Ports a node shows: its type's ports, except for types whose ports follow the config. A logic.switch
// declares case_1..case_8 (ports are static in a NodeSpec) but shows one port per configured case plus
// `default`; a port that still has an edge stays, so the edge is never drawn to nowhere.
import type { GraphEdge, GraphNode, Port } from '../api/types'

const CASE = /^case_(\d+)$/

export function visibleOutputs(node: GraphNode, outputs: Port[], edges: GraphEdge[]): Port[] {
  if (node.type !== 'logic.switch') return outputs
  const cases = Array.isArray(node.config.cases) ? node.config.cases.length : 0
  const wired = new Set(edges.filter((e) => e.source === node.id).map((e) => e.source_port))
  return outputs.filter((p) => {
    const m = CASE.exec(p.name)
    return !m || Number(m[1]) <= cases || wired.has(p.name)
  })
}
