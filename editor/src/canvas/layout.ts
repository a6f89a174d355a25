// Auto-layout with dagre, left to right, using each node's measured size.
import dagre from '@dagrejs/dagre'
import type { Graph, Position } from '../api/types'

export function autoLayout(graph: Graph, sizes: Record<string, { width: number; height: number }>): Record<string, Position> {
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 90, marginx: 20, marginy: 20 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const n of graph.nodes) {
    const s = sizes[n.id] ?? { width: 220, height: 90 }
    g.setNode(n.id, { width: s.width, height: s.height })
  }
  for (const e of graph.edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target)
  dagre.layout(g)
  const out: Record<string, Position> = {}
  for (const n of graph.nodes) {
    const p = g.node(n.id)
    const s = sizes[n.id] ?? { width: 220, height: 90 }
    if (p) out[n.id] = { x: p.x - s.width / 2, y: p.y - s.height / 2 }
  }
  return out
}
