// Asked before a test run or a re-run executes nodes with side effects: per node run it (for real), reuse
// its recorded output, or (email.send) keep the mail in the outbox. The shared modal Dialog: focus trapped, Escape cancels.
import { useState } from 'react'
import type { SideEffectChoice, SideEffectQuestion } from '../api/types'
import { Dialog } from '../ui/Dialog'

const LABEL: Record<SideEffectChoice, string> = { run: 'Run it for real', reuse: 'Reuse its recorded output', outbox: 'Send to the outbox' }

const initial = (q: SideEffectQuestion): SideEffectChoice => {
  const choices = q.choices ?? ['run']
  return choices.includes('outbox') ? 'outbox' : choices.includes('reuse') ? 'reuse' : 'run'
}

interface Props {
  questions: SideEffectQuestion[]
  onConfirm: (choices: Record<string, SideEffectChoice>) => void
  onCancel: () => void
}

export function SideEffectsDialog({ questions, onConfirm, onCancel }: Props) {
  const [choices, setChoices] = useState<Record<string, SideEffectChoice>>(() => Object.fromEntries(questions.map((q) => [q.node_id, initial(q)])))
  return (
    <Dialog title="These nodes have side effects" onClose={onCancel} testId="side-effects-dialog">
        <p className="muted small">They act outside the run (a request, a ledger entry, mail). Choose for each what this run does.</p>
        {questions.map((q) => (
          <fieldset key={q.node_id} className="side-effect" data-testid={`side-effect-${q.node_id}`}>
            <legend><b>{q.title}</b> <span className="mono small">{q.node_id}</span>{q.already_ran && <span className="tag">already ran</span>}</legend>
            {(q.choices ?? ['run']).map((c) => (
              <label key={c} className="radio">
                <input type="radio" name={`se-${q.node_id}`} value={c} checked={choices[q.node_id] === c} data-testid={`side-effect-${q.node_id}-${c}`}
                  onChange={() => setChoices({ ...choices, [q.node_id]: c })} /> {LABEL[c]}
              </label>
            ))}
          </fieldset>
        ))}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onCancel} data-testid="side-effects-cancel">Cancel</button>
          <button type="button" className="btn primary" onClick={() => onConfirm(choices)} data-testid="side-effects-confirm">Continue</button>
        </div>
    </Dialog>
  )
}
