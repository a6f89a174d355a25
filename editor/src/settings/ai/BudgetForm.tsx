// Owners: the monthly budget (USD) and call quota; blank means no limit.
import { useEffect, useState, type FormEvent } from 'react'
import { Field } from '../../teams/Field'
import { ProblemNote } from '../../teams/ProblemNote'
import { useAction } from '../../teams/useAction'
import { aiApi, type AiBudget } from './api'

/** Blank is "no limit" (null); anything else goes to the server as typed, which says what is wrong with it. */
const limit = (s: string) => (s.trim() === '' ? null : Number(s))

export function BudgetForm({ budget, onSaved }: { budget: AiBudget; onSaved: () => void }) {
  const [amount, setAmount] = useState('')
  const [quota, setQuota] = useState('')
  useEffect(() => {
    setAmount(budget.monthly_budget_usd === null ? '' : String(budget.monthly_budget_usd))
    setQuota(budget.monthly_call_quota === null ? '' : String(budget.monthly_call_quota))
  }, [budget])
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (await act.run(() => aiApi.putBudget(limit(amount), limit(quota)))) onSaved()
  }
  return (
    <form className="inline-form" onSubmit={submit} data-testid="ai-budget-form">
      <div className="grow"><Field id="ai-budget-usd" label="Monthly budget (USD, blank: no limit)" type="number" min={0} step="0.01"
        field="monthly_budget_usd" refusal={act.refusal} value={amount} onValue={setAmount} /></div>
      <div className="grow"><Field id="ai-budget-quota" label="Monthly call quota (blank: no limit)" type="number" min={0} step={1}
        field="monthly_call_quota" refusal={act.refusal} value={quota} onValue={setQuota} /></div>
      <button className="btn primary" disabled={act.busy} data-testid="ai-budget-save">Save limits</button>
      <ProblemNote refusal={act.refusal} testId="ai-budget-save-error" />
    </form>
  )
}
