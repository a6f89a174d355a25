// A node's output ports as drawn and connected: its type's, plus the `error` port while its on_error is
// "branch" (docs/engine.md "Error handling"); the engine sends a failure there after the retries.
import type { GraphNode, NodeType, Port } from '../api/types'

export const ERROR_PORT = 'error'
const ERROR: Port = { name: ERROR_PORT, type: 'object', description: '{error: {kind, message, node_id}} when the node failed' }

export const branchesOnError = (n: GraphNode | undefined) => n?.config?.on_error === 'branch'

export function outputsOf(n: GraphNode | undefined, spec: NodeType | undefined): Port[] {
  const outputs = spec?.outputs ?? []
  return branchesOnError(n) && !outputs.some((p) => p.name === ERROR_PORT) ? [...outputs, ERROR] : outputs
}
