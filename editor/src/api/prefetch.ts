// The canvas's REST data, requested as the script starts, alongside /auth/me, instead of after it and after
// React's first render: the workflow and the node catalogue are on an open's critical path (docs/editor.md).
import { api } from './client'
import type { NodeType, Workflow } from './types'

type Pending = { id: string; workflow: Promise<Workflow>; catalogue: Promise<NodeType[]> }
let pending: Pending | null = null

const quiet = <T,>(p: Promise<T>) => { p.catch(() => {}); return p } // a failure is retried by canvasData

export function prefetchCanvas(path: string) {
  const m = /^\/workflows\/([^/]+)/.exec(path)
  if (m) pending = { id: m[1], workflow: quiet(api.getWorkflow(m[1])), catalogue: quiet(api.nodeTypes()) }
}

/** The canvas's data: the prefetched answers once (for this workflow, if they succeeded), else new requests. */
export function canvasData(id: string): Promise<[Workflow, NodeType[]]> {
  const got = pending?.id === id ? pending : null
  pending = null
  return Promise.all([
    got ? got.workflow.catch(() => api.getWorkflow(id)) : api.getWorkflow(id),
    got ? got.catalogue.catch(() => api.nodeTypes()) : api.nodeTypes(),
  ])
}
