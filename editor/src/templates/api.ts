// /api/templates and /api/workflows/{id}/template-update (docs/templates.md).
import { ApiError } from '../api/client'
import type { Graph, JsonSchema, Workflow } from '../api/types'
import type { Finding } from '../credentials/api'

export interface TemplateSummary {
  id: string; builtin: boolean; title: string; description: string; category: string; tags: string[]; icon: string
  version: number; visibility: 'private' | 'workspace' | 'public'; owner_id: string | null; editable: boolean
  node_count: number; ai_enhancements: number; updated_at: string | null
}
export interface AIPoint { node: string; kind: string; description: string; tier: string }
export interface Template extends TemplateSummary {
  parameters: JsonSchema; ai_enhancement_points: AIPoint[]; sample_input: Record<string, unknown>; graph: Graph
  document: Record<string, unknown>
}
export interface TemplateList { items: TemplateSummary[]; categories: string[]; tags: string[] }
export interface Conflict {
  pointer: string; base: unknown; ours: unknown; theirs: unknown; reason?: string
  element?: string; id?: string | null; field?: string   // "node", "say", "config.subject"
  choosable?: boolean; resolution?: 'mine' | 'theirs' | 'dropped'
}
export interface ImportedTrigger { type: 'schedule' | 'webhook'; id: string; [key: string]: unknown }
/** A template trigger as resolved with the workflow's parameters (what an import or a merge creates). */
export interface TemplateTrigger { type: 'schedule' | 'webhook'; cron?: string; timezone?: string; description?: string; allow_token?: boolean }
export interface TemplateUpdate {
  workflow_id: string; template_id: string | null; title: string | null; available?: boolean
  current_version: number | null; latest_version: number | null; update_available: boolean
  diff: any; conflicts: Conflict[]
  triggers?: { added: TemplateTrigger[]; dropped: TemplateTrigger[] }
}
export interface MergeResult {
  from_version: number; to_version: number; changed: boolean; conflicts: Conflict[]; graph: Graph
  triggers_created: (TemplateTrigger & { id: string; secret?: string; url?: string })[]; triggers_dropped: TemplateTrigger[]
}

async function call<T>(method: string, path: string, body?: unknown, raw?: string): Promise<T> {
  const res = await fetch(`/api${path}`, {
    method, credentials: 'same-origin',
    headers: body === undefined && raw === undefined ? {} : { 'Content-Type': 'application/json' },
    body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let data: any
  try { data = text ? JSON.parse(text) : undefined } catch { data = { detail: text } }
  if (!res.ok) throw new ApiError(res.status, data)
  return data as T
}

const qs = (p: Record<string, string>) => {
  const s = Object.entries(p).filter(([, v]) => v).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
  return s ? `?${s}` : ''
}

export const templatesApi = {
  list: (q = '', category = '', tag = '') => call<TemplateList>('GET', '/templates' + qs({ q, category, tag })),
  get: (id: string) => call<Template>('GET', `/templates/${id}`),
  importTemplate: (id: string, params: Record<string, unknown>, name?: string) =>
    call<Workflow & { triggers: ImportedTrigger[]; findings?: Finding[] }>('POST', `/templates/${id}/import`, name ? { params, name } : { params }),
  upload: (text: string, visibility = 'private') => call<Template & { findings?: Finding[] }>('POST', `/templates/upload?visibility=${visibility}`, undefined, text),
  saveAs: (body: { workflow_id: string; title: string; description?: string; category?: string; tags?: string[]; visibility: string }) =>
    call<Template>('POST', '/templates', body),
  update: (id: string, body: Record<string, unknown>) => call<Template>('PUT', `/templates/${id}`, body),
  remove: (id: string) => call<void>('DELETE', `/templates/${id}`),
  templateUpdate: (workflowId: string) => call<TemplateUpdate>('GET', `/workflows/${workflowId}/template-update`),
  merge: (workflowId: string, choices: Record<string, 'mine' | 'theirs'> = {}) =>
    call<MergeResult>('POST', `/workflows/${workflowId}/template-update/merge`, { choices }),
}
