// The workspace's credentials. Editors and owners edit, test, connect (OAuth2) and delete; a delete that
// workflows still need is refused (409) and the refusal lists them. Viewers see the names alone.
import { useState } from 'react'
import { ago } from '../canvas/RunHistory'
import { ConfirmButton } from '../teams/ConfirmButton'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { useHeadingFocus } from '../teams/useHeadingFocus'
import { credentialsApi, usedByOf, type Credential, type UsedBy } from './api'
import { ConnectButton, connectable } from './ConnectButton'
import { CredentialTest } from './CredentialTest'
import { UsedByList } from './UsedByList'

interface Props {
  credentials: Credential[]
  canEdit: boolean
  onEdit: (c: Credential) => void
  onChanged: () => void
}

export function CredentialsTable({ credentials, canEdit, onEdit, onChanged }: Props) {
  const act = useAction()
  const [refusedBy, setRefusedBy] = useState<UsedBy[]>([])
  const heading = useHeadingFocus()
  const remove = async (c: Credential) => {
    setRefusedBy([])
    let refused: unknown = null
    await act.run(() => credentialsApi.remove(c.id).catch((e) => { refused = e; throw e }))
    setRefusedBy(usedByOf(refused))
    onChanged()
    heading.focus()
  }
  return (
    <section aria-labelledby="credentials-title">
      <h2 id="credentials-title" ref={heading.ref} tabIndex={heading.tabIndex}>Credentials</h2>
      <ProblemNote refusal={act.refusal} testId="credentials-error" />
      <UsedByList usedBy={refusedBy} testId="credential-used-by" />
      {credentials.length === 0 ? <p className="muted" data-testid="credentials-empty">No credentials yet.</p> : (
        <table className="data-table" data-testid="credentials-table">
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Type</th>
              {canEdit && <><th scope="col">Created by</th><th scope="col">Used by</th><th scope="col"><span className="sr-only">Actions</span></th></>}
            </tr>
          </thead>
          <tbody>
            {credentials.map((c) => (
              <tr key={c.id} data-testid={`credential-${c.name}`} data-id={c.id}>
                <td>{c.name}</td>
                <td><span className="pill">{c.type}</span></td>
                {canEdit && <>
                  <td className="small">{c.created_by ?? '—'}{c.created_at && <span className="muted"> · {ago(c.created_at)}</span>}</td>
                  <td className="small" data-testid={`credential-used-${c.name}`}>
                    {c.used_by == null ? '…' : c.used_by.length === 0 ? <span className="muted">unused</span>
                      : c.used_by.map((u) => u.workflow_name).join(', ')}
                  </td>
                  <td className="row-actions">
                    <CredentialTest credential={c} />
                    {connectable(c) && <ConnectButton credential={c} onConnected={onChanged} />}
                    <button className="btn small" onClick={() => onEdit(c)} aria-label={`Edit ${c.name}`} data-testid={`credential-edit-${c.name}`}>Edit</button>
                    <ConfirmButton verb="Delete" what={c.name} onConfirm={() => remove(c)} disabled={act.busy} testId={['credential-delete', c.name]} />
                  </td>
                </>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
