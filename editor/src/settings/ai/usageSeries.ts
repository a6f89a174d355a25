// Ledger rows (one per day and model) -> the chart's series: every day of the window (days without calls
// are zero, so the time axis is honest), the models, each cell's value and the tallest day.
import type { UsageRow } from './api'

export type Measure = 'cost_usd' | 'calls' | 'tokens'
export const MEASURES: Record<Measure, string> = { cost_usd: 'Cost (USD)', calls: 'Calls', tokens: 'Tokens' }
// distinct at a glance, each at least 3:1 against white (WCAG 1.4.11)
export const MODEL_COLOURS = ['#4f46e5', '#0f766e', '#b45309', '#be185d', '#1d4ed8', '#15803d', '#7c3aed', '#b91c1c']

export interface Series { days: string[]; models: string[]; cells: Map<string, Map<string, number>>; max: number }

/** The last `n` UTC days, oldest first, as YYYY-MM-DD (the ledger's day is a UTC day). */
export function lastDays(n: number, today = new Date()): string[] {
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())
  return Array.from({ length: n }, (_, i) => new Date(end - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10))
}

export const valueOf = (r: UsageRow, m: Measure) => (m === 'tokens' ? r.tokens_in + r.tokens_out : r[m])

export function seriesOf(rows: UsageRow[], days: string[], measure: Measure): Series {
  const models = [...new Set(rows.map((r) => r.model))].sort()
  const cells = new Map(days.map((d) => [d, new Map<string, number>()]))
  for (const r of rows) cells.get(r.day)?.set(r.model, (cells.get(r.day)?.get(r.model) ?? 0) + valueOf(r, measure))
  const totals = [...cells.values()].map((c) => [...c.values()].reduce((a, b) => a + b, 0))
  return { days, models, cells, max: Math.max(0, ...totals) }
}

export const format = (v: number, m: Measure) => (m === 'cost_usd' ? `$${v.toFixed(v && v < 0.01 ? 6 : 2)}` : String(v))
