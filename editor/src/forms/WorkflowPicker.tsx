// A node's workflow field ("x-workflow" in its config schema, e.g. flow.subworkflow's workflow_id): a select
// of the workspace's workflows by name, each with its published status. The graph keeps only the id; an
// expression ({{ ... }}) or an id not in the list stays, shown as such, until another is picked.
import { usePath } from '../router'
import { useWorkflows, workflowOption } from './useWorkflows'

interface Props {
  value: unknown
  onChange: (id: string | null) => void
  disabled?: boolean
  invalid?: boolean
  testId: string
  labelledBy?: string
  label?: string
}

export function WorkflowPicker({ value, onChange, disabled, invalid, testId, labelledBy, label }: Props) {
  const { list, failed } = useWorkflows()
  const self = usePath().match(/^\/workflows\/([^/]+)/)?.[1]
  const id = typeof value === 'string' ? value : ''
  const others = (list ?? []).filter((w) => w.id !== self)    // a workflow calling itself is a cycle
  const known = !id || others.some((w) => w.id === id)
  const unknownText = id.includes('{{') ? `expression: ${id}` : !list ? 'loading…' : id === self ? 'this workflow (a cycle)' : 'a workflow not in this workspace'
  return (
    <div className="workflow-picker">
      <select className={`input${invalid ? ' invalid' : ''}`} value={id} disabled={disabled} data-testid={testId}
        aria-labelledby={labelledBy} aria-label={label} aria-invalid={invalid || undefined}
        onChange={(e) => onChange(e.target.value || null)}>
        <option value="">Choose a workflow…</option>
        {others.map((w) => <option key={w.id} value={w.id}>{workflowOption(w)}</option>)}
        {!known && <option value={id}>{unknownText}</option>}
      </select>
      {failed && <div className="field-error">The workflows could not be loaded.</div>}
      {!known && list && !id.includes('{{') && <div className="field-error" data-testid={`${testId}-unknown`}>This workflow is not one this node can run: pick another.</div>}
    </div>
  )
}
