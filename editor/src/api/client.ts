// A small typed client for /api. Errors are RFC 9457 problem documents, raised as ApiError.
import type {
  Graph, Me, NodeType, OutboxMessage, OutboxMessageDetail, Run, RunSummary, Validation, Version, VersionSummary, Workflow,
  WorkflowSummary,
} from './types'

export class ApiError extends Error {
  constructor(public status: number, public body: any) {
    super(body?.detail || body?.title || `HTTP ${status}`)
  }
  get problems() { return (this.body?.problems ?? []) as Validation['problems'] }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status === 204) return undefined as T
  const text = await res.text()
  const data = text ? JSON.parse(text) : undefined
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/auth/')) window.dispatchEvent(new Event('maily:unauthorized'))
    throw new ApiError(res.status, data)
  }
  return data as T
}

const q = (params: Record<string, string | number | undefined>) =>
  '?' + Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')

export const api = {
  login: (email: string, password: string) => call<Me>('POST', '/auth/login', { email, password }),
  logout: () => call<void>('POST', '/auth/logout'),
  me: () => call<Me>('GET', '/auth/me'),

  listWorkflows: () => call<WorkflowSummary[]>('GET', '/workflows' + q({ limit: 200, order: 'updated' })),
  createWorkflow: (name: string, graph?: Graph) => call<Workflow>('POST', '/workflows', { name, graph }),
  getWorkflow: (id: string) => call<Workflow>('GET', `/workflows/${id}`),
  updateWorkflow: (id: string, patch: { name?: string; description?: string; graph?: Graph }) =>
    call<Workflow>('PUT', `/workflows/${id}`, patch),
  deleteWorkflow: (id: string) => call<void>('DELETE', `/workflows/${id}`),

  listVersions: (id: string) => call<VersionSummary[]>('GET', `/workflows/${id}/versions`),
  getVersion: (id: string, n: number) => call<Version>('GET', `/workflows/${id}/versions/${n}`),
  publish: (id: string, note: string) => call<Version>('POST', `/workflows/${id}/publish`, { note }),
  restore: (id: string, n: number) => call<Workflow>('POST', `/workflows/${id}/versions/${n}/restore`),
  diffVersions: (id: string, from: number | 'draft', to: number | 'draft') =>
    call<unknown>('GET', `/workflows/${id}/versions/diff` + q({ from_version: from, to_version: to })),

  nodeTypes: () => call<NodeType[]>('GET', '/nodes'),
  validate: (graph: Graph) => call<Validation>('POST', '/graph/validate', graph),

  startRun: (id: string, input: Record<string, unknown>, version?: number) =>
    call<RunSummary>('POST', `/workflows/${id}/runs`,
      version ? { input, source: 'published', version } : { input, source: 'draft' }),
  listRuns: (workflowId: string) => call<RunSummary[]>('GET', '/runs' + q({ workflow_id: workflowId, limit: 30 })),
  getRun: (runId: string) => call<Run>('GET', `/runs/${runId}`),
  cancelRun: (runId: string) => call<RunSummary>('POST', `/runs/${runId}/cancel`),
  pauseRun: (runId: string) => call<RunSummary>('POST', `/runs/${runId}/pause`),
  resumeRun: (runId: string) => call<RunSummary>('POST', `/runs/${runId}/resume`),
  decideRun: (runId: string, decision: 'approve' | 'reject', form: Record<string, unknown>, nodeId?: string) =>
    call<RunSummary>('POST', `/runs/${runId}/${decision}` + (nodeId ? q({ node_id: nodeId }) : ''), form),
  retryRun: (runId: string) => call<RunSummary>('POST', `/runs/${runId}/retry`),
  rerunFrom: (runId: string, fromNode: string) => call<RunSummary>('POST', `/runs/${runId}/rerun`, { from_node: fromNode }),
  listOutbox: (limit = 200) => call<OutboxMessage[]>('GET', '/email/outbox' + q({ limit })),
  getOutbox: (id: string) => call<OutboxMessageDetail>('GET', `/email/outbox/${id}`),
  runQueue: () => call<{ limit: number; running: RunSummary[]; queued: RunSummary[] }>('GET', '/runs/queue'),
}

/** ws(s)://<this host><path>: WebSockets go to the same origin, authenticated by the session cookie. */
export function wsUrl(path: string): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${proto}//${window.location.host}${path}`
}
