// Addresses no mail goes to (unsubscribes, bounces, complaints, added by hand): search, remove, add (editors).
import { useCallback, useState } from 'react'
import { ago } from '../../canvas/RunHistory'
import { ProblemNote } from '../../teams/ProblemNote'
import { useAction } from '../../teams/useAction'
import { useHeadingFocus } from '../../teams/useHeadingFocus'
import { useLoad } from '../../teams/useLoad'
import { emailApi, type Suppression } from './api'
import { SuppressionAdd } from './SuppressionAdd'

export function Suppressions({ canEdit }: { canEdit: boolean }) {
  const list = useLoad(useCallback(() => emailApi.suppressions(), []))
  const [search, setSearch] = useState('')
  const drop = useAction()
  const heading = useHeadingFocus()
  const remove = async (s: Suppression) => {
    await drop.run(() => emailApi.removeSuppression(s.email)); list.reload(); heading.focus()
  }
  const needle = search.trim().toLowerCase()
  const shown = (list.data ?? []).filter((s) => !needle || s.email.includes(needle) || s.reason.includes(needle))
  return (
    <section aria-labelledby="email-suppressions-title">
      <h2 id="email-suppressions-title" ref={heading.ref} tabIndex={heading.tabIndex}>Suppressions</h2>
      <p className="muted small">No mail is sent to these addresses.{!canEdit && ' Only owners and editors can change the list.'}</p>
      {canEdit && <SuppressionAdd onAdded={list.reload} />}
      <ProblemNote refusal={drop.refusal ?? list.refusal} testId="suppressions-error" />
      <div className="inline-form search-row">
        <div className="grow">
          <label className="field-label" htmlFor="suppression-search">Search</label>
          <input id="suppression-search" type="search" className="input" value={search} data-testid="suppression-search"
            onChange={(e) => setSearch(e.target.value)} aria-controls="suppressions-table" />
        </div>
      </div>
      <p className="sr-only" role="status">{list.data ? `${shown.length} of ${list.data.length} addresses shown` : ''}</p>
      {list.data && (shown.length === 0 ? <p className="muted" data-testid="suppressions-empty">{needle ? 'No address matches.' : 'No suppressed addresses.'}</p> : (
        <table className="data-table" id="suppressions-table" data-testid="suppressions-table">
          <thead><tr><th scope="col">Address</th><th scope="col">Reason</th><th scope="col">From</th><th scope="col">Since</th>
            {canEdit && <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
          <tbody>
            {shown.map((s) => (
              <tr key={s.email} data-testid={`suppression-${s.email}`}>
                <td>{s.email}</td><td><span className="pill">{s.reason}</span></td><td className="small">{s.source}</td>
                <td className="muted small">{ago(s.created_at)}</td>
                {canEdit && <td className="row-actions"><button className="btn small" onClick={() => remove(s)} disabled={drop.busy}
                  aria-label={`Remove ${s.email} from the suppressions`} data-testid={`suppression-remove-${s.email}`}>Remove</button></td>}
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  )
}
