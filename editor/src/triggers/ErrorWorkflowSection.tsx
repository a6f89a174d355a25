// The workflow's error workflow: started when a run of this one fails. It is a chain on "failed" only
// (backend/triggers), shown and chosen here as one setting; other chains stay in the list below.
import { useCallback } from 'react'
import { useWorkflows, workflowOption } from '../forms/useWorkflows'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { triggersApi, type Chain } from './api'
import { useTriggerList } from './useTriggerList'

interface Props { workflowId: string; canEdit: boolean; stamp: number; changed: () => void }

export const isErrorChain = (c: Chain, workflowId: string) =>
  c.source_workflow_id === workflowId && c.on.length === 1 && c.on[0] === 'failed'

export function ErrorWorkflowSection({ workflowId, canEdit, stamp, changed }: Props) {
  const list = useTriggerList(useCallback(() => triggersApi.chains(workflowId), [workflowId]), stamp)
  const workflows = useWorkflows().list ?? []
  const act = useAction()
  const current = list.data?.find((c) => isErrorChain(c, workflowId))

  const choose = async (target: string) => {
    const done = await act.run(async () => {
      if (current) await triggersApi.deleteChain(workflowId, current.id)
      if (target) await triggersApi.createChain(workflowId, { target_workflow_id: target, on: ['failed'], source: 'published' })
      return true
    })
    if (done) { list.reload(); changed() }
  }

  return (
    <section aria-labelledby="error-workflow-heading" data-testid="error-workflow-section">
      <h3 id="error-workflow-heading" className="trigger-heading">Error workflow</h3>
      <p className="muted small">Started (its published version) when a run of this workflow fails, with the failed run's id and error as its input.</p>
      <label className="field-label" htmlFor="error-workflow">When a run fails, run</label>
      <select id="error-workflow" className="input" value={current?.target_workflow_id ?? ''} disabled={!canEdit || act.busy || !list.data}
        onChange={(e) => choose(e.target.value)} data-testid="error-workflow">
        <option value="">No error workflow</option>
        {workflows.filter((w) => w.id !== workflowId).map((w) => <option key={w.id} value={w.id}>{workflowOption(w)}</option>)}
      </select>
      <ProblemNote refusal={act.refusal ?? list.refusal} testId="error-workflow-problem" />
    </section>
  )
}
