// Editors: suppress an address by hand.
import { useState, type FormEvent } from 'react'
import { Field } from '../../teams/Field'
import { ProblemNote } from '../../teams/ProblemNote'
import { useAction } from '../../teams/useAction'
import { emailApi } from './api'

export function SuppressionAdd({ onAdded }: { onAdded: () => void }) {
  const [email, setEmail] = useState('')
  const act = useAction()
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (await act.run(() => emailApi.addSuppression(email))) { setEmail(''); onAdded() }
  }
  return (
    <form className="inline-form" onSubmit={submit} data-testid="suppression-add-form">
      <div className="grow"><Field id="suppression-email" label="Address to suppress" type="email" field="email" refusal={act.refusal}
        value={email} onValue={setEmail} required /></div>
      <button className="btn primary" disabled={act.busy} data-testid="suppression-add">Suppress</button>
      <ProblemNote refusal={act.refusal} testId="suppression-add-error" />
    </form>
  )
}
