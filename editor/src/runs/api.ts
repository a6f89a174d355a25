// The run explorer's calls: runs across all workflows with filters and text search, replay, compare (docs/api.md).
import { call } from '../api/client'
import type { RunSummary } from '../api/types'

export interface RunFilters {
  workflow_id?: string; status?: string; trigger?: string; since?: string; until?: string; q?: string
}
export interface NodeSide { status: string; output: unknown; error: unknown }
export interface NodeCompare { node_id: string; iteration: number | null; node_type: string; a: NodeSide | null; b: NodeSide | null; same: boolean }
export interface RunCompare { a: string; b: string; same_output: boolean; differing: number; nodes: NodeCompare[] }

const query = (params: Record<string, string | number | undefined>) =>
  '?' + Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')

export const runsApi = {
  search: (f: RunFilters, limit = 100) => call<RunSummary[]>('GET', '/runs' + query({ ...f, limit })),
  replay: (runId: string, source: 'run' | 'draft' = 'run') => call<RunSummary>('POST', `/runs/${runId}/replay`, { source }),
  compare: (a: string, b: string) => call<RunCompare>('GET', '/runs/compare' + query({ a, b })),
}
