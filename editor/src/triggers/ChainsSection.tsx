// Chains: run another workflow after this one succeeds or fails (and the chains that run this one after another).
import { useCallback, useState } from 'react'
import { useWorkflows, workflowOption } from '../forms/useWorkflows'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { triggersApi, type Chain, type EndStatus, type Source } from './api'
import { useTriggerList } from './useTriggerList'

interface Props { workflowId: string; canEdit: boolean; stamp: number; changed: () => void }
const CONDITIONS: { value: EndStatus; label: string }[] = [
  { value: 'succeeded', label: 'succeeds' }, { value: 'failed', label: 'fails' }, { value: 'cancelled', label: 'is cancelled' },
]
const when = (on: string[]) => CONDITIONS.filter((c) => on.includes(c.value)).map((c) => c.label).join(' or ')

export function ChainsSection({ workflowId, canEdit, stamp, changed }: Props) {
  const list = useTriggerList(useCallback(() => triggersApi.chains(workflowId), [workflowId]), stamp)
  const workflows = useWorkflows().list ?? []
  const [target, setTarget] = useState('')
  const [on, setOn] = useState<EndStatus[]>(['succeeded'])
  const [source, setSource] = useState<Source>('published')
  const act = useAction()
  const name = (id: string) => workflows.find((w) => w.id === id)?.name ?? id
  const bad = act.refusal?.field === 'target_workflow_id' || undefined

  const create = async (e: React.FormEvent) => {
    e.preventDefault()
    if (await act.run(() => triggersApi.createChain(workflowId, { target_workflow_id: target, on, source }))) { setTarget(''); list.reload(); changed() }
  }
  const remove = async (c: Chain) => {
    if (await act.run(() => triggersApi.deleteChain(c.source_workflow_id, c.id).then(() => true))) { list.reload(); changed() }
  }
  const flip = (v: EndStatus) => setOn((cur) => (cur.includes(v) ? cur.filter((x) => x !== v) : [...cur, v]))

  return (
    <section aria-labelledby="chains-heading" data-testid="chains-section">
      <h3 id="chains-heading" className="trigger-heading">Chains</h3>
      <ProblemNote refusal={list.refusal} testId="chains-list-problem" />
      {list.data?.length === 0 && <p className="muted small">No chain into or out of this workflow.</p>}
      <ul className="trigger-list">
        {list.data?.map((c) => (
          <li key={c.id} className="trigger-card trigger-card-head" data-testid="chain-row" data-chain-id={c.id}>
            <span className="grow">{c.source_workflow_id === workflowId
              ? <>When this workflow {when(c.on)}, run <b>{name(c.target_workflow_id)}</b></>
              : <>Runs after <b>{name(c.source_workflow_id)}</b> {when(c.on)}</>}
              <span className="muted small"> ({c.source === 'draft' ? 'draft' : 'published version'})</span></span>
            {canEdit && <button type="button" className="btn small" onClick={() => remove(c)} disabled={act.busy}
              aria-label={`Delete chain to ${name(c.target_workflow_id)}`} data-testid="chain-delete">Delete</button>}
          </li>
        ))}
      </ul>
      {canEdit && (
        <form className="trigger-form" onSubmit={create} aria-label="New chain">
          <label className="field-label" htmlFor="chain-target">Then run workflow</label>
          <select id="chain-target" className={`input${bad ? ' invalid' : ''}`} value={target} required aria-invalid={bad}
            onChange={(e) => setTarget(e.target.value)} data-testid="chain-target">
            <option value="">Choose a workflow…</option>
            {workflows.filter((w) => w.id !== workflowId).map((w) => <option key={w.id} value={w.id}>{workflowOption(w)}</option>)}
          </select>
          <fieldset className="trigger-inline">
            <legend className="field-label">When this workflow</legend>
            {CONDITIONS.map((c) => <label key={c.value}><input type="checkbox" checked={on.includes(c.value)} onChange={() => flip(c.value)}
              data-testid={`chain-on-${c.value}`} /> {c.label}</label>)}
          </fieldset>
          <div className="trigger-inline">
            <label htmlFor="chain-source">Run its</label>
            <select id="chain-source" className="input compact" value={source} onChange={(e) => setSource(e.target.value as Source)}>
              <option value="published">published version</option><option value="draft">draft</option>
            </select>
          </div>
          <ProblemNote refusal={act.refusal} testId="chain-problem" />
          <button type="submit" className="btn" disabled={act.busy || !target || !on.length} data-testid="chain-add">Add chain</button>
        </form>
      )}
    </section>
  )
}
