// Rename the current workspace (owners: PATCH /api/workspaces/{id}).
import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import type { CurrentWorkspace } from '../api/types'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { useAction } from './useAction'

export function RenameWorkspace({ ws, onRenamed }: { ws: CurrentWorkspace; onRenamed: () => void }) {
  const [name, setName] = useState(ws.name)
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (await act.run(() => api.renameWorkspace(ws.id, name))) onRenamed()
  }
  return (
    <form className="inline-form" onSubmit={submit} data-testid="workspace-rename-form">
      <div className="grow"><Field id="workspace-name" label="Workspace name" field="name" refusal={act.refusal} value={name} onValue={setName} required /></div>
      <button className="btn primary" disabled={act.busy} data-testid="workspace-rename">Rename</button>
      <ProblemNote refusal={act.refusal} testId="workspace-rename-error" />
    </form>
  )
}
