// Usage of the last 30 days by day and model (GET /api/ai/usage?group_by=day_model): SVG bars, and the same
// numbers as a table, the chart's accessible alternative.
import { useCallback, useMemo, useState } from 'react'
import { ProblemNote } from '../../teams/ProblemNote'
import { useLoad } from '../../teams/useLoad'
import { aiApi } from './api'
import { UsageBars } from './UsageBars'
import { UsageTable } from './UsageTable'
import { lastDays, MEASURES, seriesOf, type Measure } from './usageSeries'

const DAYS = 30

export function UsageChart() {
  const days = useMemo(() => lastDays(DAYS), [])
  const usage = useLoad(useCallback(() => aiApi.usageByDayAndModel(`${days[0]}T00:00:00Z`), [days]))
  const [measure, setMeasure] = useState<Measure>('cost_usd')
  const rows = usage.data ?? []
  const series = useMemo(() => seriesOf(rows, days, measure), [rows, days, measure])
  return (
    <section aria-labelledby="ai-usage-title">
      <h2 id="ai-usage-title">Usage, last {DAYS} days</h2>
      <ProblemNote refusal={usage.refusal} testId="ai-usage-error" />
      {usage.data && (rows.length === 0
        ? <p className="muted" data-testid="ai-usage-empty">No AI calls in the last {DAYS} days.</p>
        : <>
          <div className="inline-form">
            <div>
              <label className="field-label" htmlFor="ai-usage-measure">Show</label>
              <select id="ai-usage-measure" className="input" value={measure} data-testid="ai-usage-measure"
                onChange={(e) => setMeasure(e.target.value as Measure)}>
                {Object.entries(MEASURES).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
              </select>
            </div>
          </div>
          <UsageBars series={series} measure={measure} />
          <UsageTable rows={rows} />
        </>)}
    </section>
  )
}
