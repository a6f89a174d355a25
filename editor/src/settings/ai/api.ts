// /api/ai as the AI settings screen reads and changes it (docs/ai.md). Keys go in, never come back: only a hint.
import { call } from '../../api/client'

export const PROVIDERS = ['openai', 'anthropic', 'compatible'] as const
export type Provider = (typeof PROVIDERS)[number]
export const PROVIDER_NAMES: Record<Provider, string> = {
  openai: 'OpenAI', anthropic: 'Anthropic', compatible: 'OpenAI-compatible server',
}

export interface AiCredential { id: string; provider: Provider; key_hint: string; base_url: string | null; created_at: string; updated_at: string }
export interface ChainEntry { provider: string; model: string; base_url: string | null; key: 'workspace' | 'operator' | 'missing' }
export interface ModelChains { tier: string; chain: ChainEntry[]; tiers: Record<string, ChainEntry[]> }
export interface AiBudget { monthly_budget_usd: number | null; monthly_call_quota: number | null; period: string; spent_usd: number; calls: number }
export interface UsageRow {
  day: string; model: string; calls: number; cache_hits: number; errors: number; tokens_in: number; tokens_out: number
  cost_usd: number; avg_latency_ms: number
}

export const aiApi = {
  credentials: () => call<AiCredential[]>('GET', '/ai/credentials'),
  putCredential: (provider: Provider, api_key: string, base_url: string | null) =>
    call<AiCredential>('PUT', `/ai/credentials/${provider}`, { api_key, base_url }),
  deleteCredential: (provider: Provider) => call<void>('DELETE', `/ai/credentials/${provider}`),
  models: () => call<ModelChains>('GET', '/ai/models'),
  budget: () => call<AiBudget>('GET', '/ai/budget'),
  putBudget: (monthly_budget_usd: number | null, monthly_call_quota: number | null) =>
    call<AiBudget>('PUT', '/ai/budget', { monthly_budget_usd, monthly_call_quota }),
  usageByDayAndModel: (since: string) =>
    call<UsageRow[]>('GET', `/ai/usage?group_by=day_model&since=${encodeURIComponent(since)}`),
}
