// A small typed client for /api. Errors are RFC 9457 problem documents, raised as ApiError.
import type {
  AdminWorkspace, ApiToken, ApiTokenCreated, AuthConfig, CurrentWorkspace, Invitation, InvitationCreated, InvitationInfo,
  Items, MemberRow, Role, Session, SignUpIn, Tier, Workspace,
  Graph, Me, NodeType, OutboxMessage, OutboxMessageDetail, PanelData, Preview, Run, RunSummary, TestRunBody, Validation, Version, VersionSummary, Workflow,
  WorkflowSummary,
} from './types'

export class ApiError extends Error {
  constructor(public status: number, public body: any) {
    super(body?.detail || body?.title || `HTTP ${status}`)
  }
  get problems() { return (this.body?.problems ?? []) as Validation['problems'] }
  /** The request field a 422 names (problem+json `field`), if any. */
  get field(): string | null { return typeof this.body?.field === 'string' ? this.body.field : null }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The double-submit CSRF token: the server's `maily_csrf` cookie (not HttpOnly), echoed in X-CSRF-Token. */
function csrfToken(): string | null {
  const m = /(?:^|;\s*)maily_csrf=([^;]*)/.exec(document.cookie)
  return m ? decodeURIComponent(m[1]) : null
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' }
  const csrf = SAFE.has(method) ? null : csrfToken()
  if (csrf) headers['X-CSRF-Token'] = csrf
  const res = await fetch(`/api${path}`, {
    method,
    credentials: 'same-origin',
    headers,
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
  rerunFrom: (runId: string, fromNode: string, repeat: string[] = []) =>
    call<RunSummary>('POST', `/runs/${runId}/rerun`, { from_node: fromNode, repeat }),
  panelData: (workflowId: string, nodeIds: string[]) =>
    call<PanelData>('GET', `/workflows/${workflowId}/panel/data?` + nodeIds.map((n) => `node=${encodeURIComponent(n)}`).join('&')),
  preview: (workflowId: string, expression: string, nodeId: string | null) =>
    call<Preview>('POST', `/workflows/${workflowId}/panel/preview`, { expression, node_id: nodeId }),
  testRun: (workflowId: string, body: TestRunBody) => call<RunSummary>('POST', `/workflows/${workflowId}/panel/test-runs`, body),
  listOutbox: (limit = 200) => call<OutboxMessage[]>('GET', '/email/outbox' + q({ limit })),
  getOutbox: (id: string) => call<OutboxMessageDetail>('GET', `/email/outbox/${id}`),
  // ---- teams (issue 13)
  authConfig: () => call<AuthConfig>('GET', '/auth/config'),
  signup: (body: SignUpIn) => call<Me>('POST', '/auth/signup', body),
  updateMe: (name: string) => call<Me>('PATCH', '/auth/me', { name }),
  changePassword: (current_password: string, new_password: string) =>
    call<void>('POST', '/auth/password', { current_password, new_password }),
  requestPasswordReset: (email: string) => call<void>('POST', '/auth/password-reset', { email }),
  confirmPasswordReset: (token: string, password: string) => call<void>('POST', '/auth/password-reset/confirm', { token, password }),
  listSessions: () => call<Items<Session>>('GET', '/auth/sessions'),
  revokeSession: (id: string) => call<void>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`),
  listTokens: () => call<ApiToken[]>('GET', '/auth/tokens'),
  createToken: (name: string, read_only: boolean) => call<ApiTokenCreated>('POST', '/auth/tokens', { name, read_only }),
  revokeToken: (id: string) => call<void>('DELETE', `/auth/tokens/${encodeURIComponent(id)}`),
  switchWorkspace: (workspace: string) => call<Me>('POST', '/auth/switch', { workspace }),

  listMembers: () => call<Items<MemberRow>>('GET', '/members'),
  setMemberRole: (userId: string, role: Role) => call<MemberRow>('PATCH', `/members/${encodeURIComponent(userId)}`, { role }),
  removeMember: (userId: string) => call<void>('DELETE', `/members/${encodeURIComponent(userId)}`),
  listInvitations: () => call<Items<Invitation>>('GET', '/members/invitations'),
  invite: (email: string, role: Role) => call<InvitationCreated>('POST', '/members/invitations', { email, role }),
  resendInvitation: (id: string) => call<InvitationCreated>('POST', `/members/invitations/${encodeURIComponent(id)}/resend`),
  revokeInvitation: (id: string) => call<void>('DELETE', `/members/invitations/${encodeURIComponent(id)}`),
  getInvitation: (token: string) => call<InvitationInfo>('GET', `/invitations/${encodeURIComponent(token)}`),
  acceptInvitation: (token: string, body: { name?: string; password?: string }) =>
    call<Me | undefined>('POST', `/invitations/${encodeURIComponent(token)}/accept`, body),

  listWorkspaces: () => call<Items<Workspace>>('GET', '/workspaces'),
  createWorkspace: (name: string) => call<Workspace>('POST', '/workspaces', { name }),
  renameWorkspace: (id: string, name: string) => call<Workspace>('PATCH', `/workspaces/${encodeURIComponent(id)}`, { name }),
  currentWorkspace: () => call<CurrentWorkspace>('GET', '/workspaces/current'),
  adminWorkspaces: () => call<Items<AdminWorkspace>>('GET', '/admin/workspaces'),
  setWorkspaceTier: (id: string, tier: Tier) => call<AdminWorkspace>('PATCH', `/admin/workspaces/${encodeURIComponent(id)}`, { tier }),
  runQueue: () => call<{ limit: number; running: RunSummary[]; queued: RunSummary[] }>('GET', '/runs/queue'),
}

/** ws(s)://<this host><path>: WebSockets go to the same origin, authenticated by the session cookie. */
export function wsUrl(path: string): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${proto}//${window.location.host}${path}`
}
