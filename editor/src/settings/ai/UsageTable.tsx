// The chart's numbers as a table: one row per day and model, newest day first.
import type { UsageRow } from './api'
import { format } from './usageSeries'

export function UsageTable({ rows }: { rows: UsageRow[] }) {
  const newestFirst = [...rows].sort((a, b) => b.day.localeCompare(a.day) || a.model.localeCompare(b.model))
  return (
    <table className="data-table" data-testid="ai-usage-table">
      <caption className="sr-only">AI usage by day and model</caption>
      <thead><tr>
        <th scope="col">Day</th><th scope="col">Model</th><th scope="col">Calls</th><th scope="col">Cache hits</th>
        <th scope="col">Errors</th><th scope="col">Tokens in</th><th scope="col">Tokens out</th><th scope="col">Cost</th>
      </tr></thead>
      <tbody>
        {newestFirst.map((r) => (
          <tr key={`${r.day} ${r.model}`} data-testid="ai-usage-row" data-day={r.day} data-model={r.model}>
            <td>{r.day}</td><td className="mono">{r.model}</td><td>{r.calls}</td><td>{r.cache_hits}</td><td>{r.errors}</td>
            <td>{r.tokens_in}</td><td>{r.tokens_out}</td><td>{format(r.cost_usd, 'cost_usd')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
