// One line of the budget: what the month used, against its limit (a meter) or "no limit".
export function LimitLine({ label, used, of, show, testId }: { label: string; used: number; of: number | null; show: (n: number) => string; testId: string }) {
  return (
    <p data-testid={testId}>
      <strong>{label}:</strong> {show(used)} {of === null ? <span className="muted">(no limit)</span> : <>of {show(of)}{' '}
        <meter min={0} max={of || 1} value={Math.min(used, of || 1)} aria-label={`${label} used`} /></>}
    </p>
  )
}
