// Shapes of the REST API (docs/api.md, docs/graph.md, docs/engine.md).

export interface Position { x: number; y: number }

export interface GraphNode {
  id: string
  type: string
  type_version: number
  position: Position
  label?: string
  config: Record<string, unknown>
  [extra: string]: unknown
}

export interface GraphEdge { id: string; source: string; source_port: string; target: string; target_port: string }

export interface StickyNote { id: string; text: string; position: Position; width: number; height: number; color: string }

export interface Graph {
  schema_version: 1
  name: string
  nodes: GraphNode[]
  edges: GraphEdge[]
  notes?: StickyNote[]
}

export interface TenantRef { id: string; name: string; slug: string; tier: string; role: string }
export interface Me { user_id: string; email: string; name: string; tenant_id: string; role: string; tenants: TenantRef[]; is_admin?: boolean }

export interface Problem {
  code: string
  severity: 'error' | 'warning'
  message: string
  pointer: string
  node_id?: string | null
  edge_id?: string | null
  node_ids?: string[]
}
export interface Validation { ok: boolean; error_count: number; warning_count: number; problems: Problem[] }

export interface WorkflowSummary {
  id: string; tenant_id: string; name: string; description: string; published_version: number | null
  mcp_exposed?: boolean; created_by: string | null; created_at: string; updated_at: string
}
export interface Workflow extends WorkflowSummary { graph: Graph; validation: Validation | null }

export interface VersionSummary { workflow_id: string; version: number; note: string; created_by: string | null; created_at: string }
export interface Version extends VersionSummary { graph: Graph }

export interface Port { name: string; type: string; description?: string; multiple?: boolean; each?: boolean }
export type JsonSchema = Record<string, any>
export interface NodeType {
  type: string; version: number; title: string; category: string; icon: string; description: string
  inputs: Port[]; outputs: Port[]; trigger: boolean; side_effects: boolean; waits: boolean; source: string
  config_schema: JsonSchema
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'waiting' | 'paused'
export type NodeStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'waiting'
/** A node a waiting run waits on: a long delay (resume_at) or an approval (details: title, instructions, form). */
export interface WaitingOn { node_id: string; node_type: string; resume_at: string | null; reason: string; details: Record<string, any> }

export interface RunSummary {
  id: string; tenant_id: string; workflow_id: string | null; workflow_version: number | null; status: RunStatus
  trigger: string; created_at: string; started_at: string | null; finished_at: string | null; error: unknown
  resume_at?: string | null; waiting_on?: WaitingOn[] | null; retry_of?: string | null; rerun_from?: string | null
  queue_position?: number | null
}
export interface NodeRun {
  node_id: string; node_type: string; iteration: number | null; status: NodeStatus; attempts: number
  started_at: string | null; finished_at: string | null; input: unknown; output: unknown; error: unknown
}
export interface Run extends RunSummary { input: unknown; output: unknown; graph: Graph; nodes: NodeRun[] }

/** The node panel (backend/panel): each node's latest node run in the draft's runs. */
export interface NodeData { run_id: string; status: NodeStatus; iteration: number | null; finished_at: string | null; input: unknown; output: unknown; error: unknown }
export interface PanelData { run_id: string | null; trigger: unknown; nodes: Record<string, NodeData> }
export interface Preview { ok: boolean; value: unknown; type: string; truncated: boolean; error: string | null; run_id: string | null }
export type SideEffectChoice = 'run' | 'reuse' | 'outbox'
/** A 409's question: a node with side effects that a test run or a re-run would execute. */
export interface SideEffectQuestion { node_id: string; type: string; title: string; already_ran: boolean; choices?: SideEffectChoice[] }
export interface TestRunBody { node_id: string; mode: 'node' | 'to_here'; input?: Record<string, unknown>; side_effects?: Record<string, SideEffectChoice> }

export interface RunEvent {
  run_id?: string; seq: number; kind: string; status: string; node_id: string | null
  iteration?: number | null; attempt?: number | null; at: string; data: Record<string, any>
}

/** Mail kept by the built-in outbox (GET /api/email/outbox); the detail adds the raw MIME message. */
export interface OutboxMessage {
  id: string; run_id: string | null; node_id: string | null; message_id: string; sender: string; recipient: string
  subject: string; created_at: string
}
export interface OutboxMessageDetail extends OutboxMessage { raw: string }

// ---- teams (docs/api.md, issue 13): accounts, members, invitations, workspaces, plans

export type Role = 'owner' | 'editor' | 'viewer'
export type Tier = 'free' | 'premium' | 'enterprise'
export interface Items<T> { items: T[] }
export interface AuthConfig { signup: 'invite' | 'open' | 'closed'; first_user: boolean }
export interface SignUpIn { email: string; password: string; name: string; workspace: string }
export interface Session { id: string; created_at: string; last_seen_at: string | null; user_agent: string | null; ip: string | null; current: boolean }
export interface ApiToken {
  id: string; name: string; prefix: string; tenant_id: string; created_at: string; last_used_at: string | null
  revoked_at: string | null; read_only?: boolean
}
export interface ApiTokenCreated extends ApiToken { token: string }
export interface MemberRow { user_id: string; email: string; name: string; role: Role; last_active_at: string | null }
export interface Invitation { id: string; email: string; role: Role; expires_at: string; created_at: string; invited_by: string | null }
export interface InvitationCreated { id: string; email: string; role: Role; expires_at: string; url: string }
export interface InvitationInfo { workspace: string; inviter: string; email: string; role: Role; expires_at: string; has_account: boolean }
export interface Workspace { id: string; name: string; slug: string; tier: Tier; role: Role }
export interface Enhancement { key: string; name: string; description: string; tiers: string[]; unlocked: boolean }
export interface CurrentWorkspace extends Workspace { enhancements: Enhancement[] }
export interface AdminWorkspace { id: string; name: string; slug: string; tier: Tier; members: number; created_at: string }
