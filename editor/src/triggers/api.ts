// /api/workflows/{id}/schedules|webhooks|chains (docs/triggers.md): what the Triggers panel reads and changes.
import { call } from '../api/client'

export type Source = 'published' | 'draft'
export type EndStatus = 'succeeded' | 'failed' | 'cancelled'

export interface Schedule {
  id: string; workflow_id: string; cron: string; timezone: string; enabled: boolean; source: Source
  input: Record<string, unknown>; next_run_at: string | null; next_runs: string[]
  last_run_at: string | null; last_run_id: string | null; last_error: string | null; created_at: string; updated_at: string
}
export interface ScheduleIn { cron: string; timezone: string; enabled: boolean; source: Source }
export interface SchedulePreview { cron: string; timezone: string; next_runs: string[] }

export type Respond = 'immediately' | 'when_done' | 'node'
export interface Webhook {
  id: string; workflow_id: string; url: string; source: Source; allow_token: boolean; description: string; respond?: Respond
  secret_hint: string; created_at: string; rotated_at: string | null; last_used_at: string | null
}
export interface WebhookCreated extends Webhook { secret: string }
export interface Delivery { run_id: string; method: string; status: string; received_at: string; finished_at: string | null; error: string | null }
export interface TestResult { status: number; body: unknown; run_id: string | null }

export interface McpExposure { workflow_id: string; exposed: boolean; tool_name: string; published: boolean }
export interface Chain { id: string; source_workflow_id: string; target_workflow_id: string; on: EndStatus[]; source: Source; created_at: string }

const wf = (id: string) => `/workflows/${encodeURIComponent(id)}`
const one = (id: string) => encodeURIComponent(id)

export const triggersApi = {
  schedules: (w: string) => call<Schedule[]>('GET', `${wf(w)}/schedules`),
  preview: (w: string, cron: string, timezone: string) =>
    call<SchedulePreview>('GET', `${wf(w)}/schedules/preview?cron=${encodeURIComponent(cron)}&timezone=${encodeURIComponent(timezone)}`),
  createSchedule: (w: string, body: ScheduleIn) => call<Schedule>('POST', `${wf(w)}/schedules`, body),
  updateSchedule: (w: string, id: string, body: Partial<ScheduleIn>) => call<Schedule>('PUT', `${wf(w)}/schedules/${one(id)}`, body),
  deleteSchedule: (w: string, id: string) => call<void>('DELETE', `${wf(w)}/schedules/${one(id)}`),

  webhooks: (w: string) => call<Webhook[]>('GET', `${wf(w)}/webhooks`),
  createWebhook: (w: string, body: { source: Source; description: string; respond: Respond }) => call<WebhookCreated>('POST', `${wf(w)}/webhooks`, body),
  rotateWebhook: (w: string, id: string) => call<WebhookCreated>('POST', `${wf(w)}/webhooks/${one(id)}/rotate`),
  deleteWebhook: (w: string, id: string) => call<void>('DELETE', `${wf(w)}/webhooks/${one(id)}`),
  deliveries: (w: string, id: string) => call<Delivery[]>('GET', `${wf(w)}/webhooks/${one(id)}/deliveries`),
  testWebhook: (w: string, id: string, method: string, body: unknown) =>
    call<TestResult>('POST', `${wf(w)}/webhooks/${one(id)}/test`, { method, body }),

  chains: (w: string) => call<Chain[]>('GET', `${wf(w)}/chains`),
  createChain: (w: string, body: { target_workflow_id: string; on: EndStatus[]; source: Source }) =>
    call<Chain>('POST', `${wf(w)}/chains`, body),
  deleteChain: (sourceWorkflow: string, id: string) => call<void>('DELETE', `${wf(sourceWorkflow)}/chains/${one(id)}`),

  setMcp: (w: string, exposed: boolean) => call<McpExposure>('PUT', `${wf(w)}/mcp`, { exposed }),
}
