// A node's output ports as drawn and connected: its type's, plus the `error` port while its on_error is
// "branch" (docs/engine.md "Error handling"; the engine sends a failure there after the retries), except
// for types whose ports follow the config: a logic.switch declares case_1..case_8 (ports are static in a
// NodeSpec) but shows one port per configured case plus `default`; a port that still has an edge stays,
// so the edge is never drawn to nowhere.
import type { GraphEdge, GraphNode, NodeType, Port } from '../api/types'

export const ERROR_PORT = 'error'
const ERROR: Port = { name: ERROR_PORT, type: 'object', description: '{error: {kind, message, node_id}} when the node failed' }

export const branchesOnError = (n: GraphNode | undefined) => n?.config?.on_error === 'branch'

export function outputsOf(n: GraphNode | undefined, spec: NodeType | undefined): Port[] {
  const outputs = spec?.outputs ?? []
  return branchesOnError(n) && !outputs.some((p) => p.name === ERROR_PORT) ? [...outputs, ERROR] : outputs
}

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
