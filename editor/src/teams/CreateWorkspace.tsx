// A new workspace (the creator is its owner, tier free); the session switches to it.
import { useState, type FormEvent } from 'react'
import { api } from '../api/client'
import { Field } from './Field'
import { ProblemNote } from './ProblemNote'
import { useSession } from './session'
import { useAction } from './useAction'

export function CreateWorkspace() {
  const { switchTo } = useSession()
  const [name, setName] = useState('')
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    await act.run(async () => { const ws = await api.createWorkspace(name); await switchTo(ws.id) })
  }
  return (
    <section aria-labelledby="workspace-create-title">
      <h2 id="workspace-create-title">New workspace</h2>
      <form className="inline-form" onSubmit={submit} data-testid="workspace-create-form">
        <div className="grow"><Field id="new-workspace-name" label="Name of the new workspace" field="name" refusal={act.refusal} value={name} onValue={setName} required /></div>
        <button className="btn" disabled={act.busy} data-testid="workspace-create">Create and switch</button>
      </form>
      <ProblemNote refusal={act.refusal} testId="workspace-create-error" />
    </section>
  )
}
