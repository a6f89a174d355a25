// This month's spend and calls against the limits; owners set the monthly budget (USD) and call quota.
import { useCallback } from 'react'
import { ProblemNote } from '../../teams/ProblemNote'
import { useLoad } from '../../teams/useLoad'
import { aiApi } from './api'
import { BudgetForm } from './BudgetForm'
import { LimitLine } from './LimitLine'

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`

export function BudgetPanel({ isOwner }: { isOwner: boolean }) {
  const budget = useLoad(useCallback(() => aiApi.budget(), []))
  const b = budget.data
  return (
    <section aria-labelledby="ai-budget-title">
      <h2 id="ai-budget-title">Budget and quota</h2>
      <ProblemNote refusal={budget.refusal} testId="ai-budget-error" />
      {b && <>
        <p className="muted small">Month {b.period}. A call that would go past a limit is not made: the baseline answers instead.</p>
        <LimitLine label="Spent" used={b.spent_usd} of={b.monthly_budget_usd} show={usd} testId="ai-budget-spent" />
        <LimitLine label="Calls" used={b.calls} of={b.monthly_call_quota} show={String} testId="ai-budget-calls" />
        {isOwner ? <BudgetForm budget={b} onSaved={budget.reload} />
          : <p className="muted" data-testid="ai-budget-readonly">Only an owner can change the budget and quota.</p>}
      </>}
    </section>
  )
}
