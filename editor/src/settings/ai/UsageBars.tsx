// The bar chart: one stacked bar a day, a segment per model. It is one image to assistive technology
// (a title and a summary); the table under it carries every number.
import { format, MEASURES, MODEL_COLOURS, type Measure, type Series } from './usageSeries'

const W = 720, H = 220, LEFT = 64, BOTTOM = 24, TOP = 10

export function UsageBars({ series, measure }: { series: Series; measure: Measure }) {
  const { days, models, cells, max } = series
  const step = (W - LEFT) / days.length
  const y = (v: number) => (max ? (v / max) * (H - TOP - BOTTOM) : 0)
  const colour = (m: string) => MODEL_COLOURS[models.indexOf(m) % MODEL_COLOURS.length]
  const total = [...cells.values()].reduce((a, c) => a + [...c.values()].reduce((x, v) => x + v, 0), 0)
  return (
    <figure className="usage-figure">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="ai-usage-svg-title ai-usage-svg-desc" data-testid="ai-usage-chart">
        <title id="ai-usage-svg-title">{MEASURES[measure]} by day and model</title>
        <desc id="ai-usage-svg-desc">{`${format(total, measure)} in all over ${days.length} days, ${models.length} model(s); the table below lists every value.`}</desc>
        <line x1={LEFT} y1={H - BOTTOM} x2={W} y2={H - BOTTOM} stroke="#5f6779" />
        <text x={LEFT - 6} y={TOP + 10} textAnchor="end" fontSize="11" fill="#5f6779">{format(max, measure)}</text>
        <text x={LEFT - 6} y={H - BOTTOM} textAnchor="end" fontSize="11" fill="#5f6779">0</text>
        {days.map((day, i) => {
          let base = H - BOTTOM
          return (
            <g key={day} data-testid="ai-usage-bar" data-day={day}>
              {models.map((m) => {
                const v = cells.get(day)?.get(m) ?? 0
                if (!v) return null
                const h = Math.max(1, y(v))
                base -= h
                return <rect key={m} x={LEFT + i * step + 2} y={base} width={Math.max(1, step - 4)} height={h} fill={colour(m)}
                  data-model={m}><title>{`${day} ${m}: ${format(v, measure)}`}</title></rect>
              })}
              {i % 7 === 0 && <text x={LEFT + i * step + step / 2} y={H - 6} textAnchor="middle" fontSize="11" fill="#5f6779">{day.slice(5)}</text>}
            </g>
          )
        })}
      </svg>
      <figcaption>
        <ul className="usage-legend" aria-label="Models">
          {models.map((m) => <li key={m}><span className="swatch" style={{ background: colour(m) }} aria-hidden="true" />{m}</li>)}
        </ul>
      </figcaption>
    </figure>
  )
}
