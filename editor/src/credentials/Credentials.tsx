// /settings/credentials: the workspace's vault. Editors and owners create (a form from the type's
// fields), edit, test and delete; viewers see the names only.
import './credentials.css'
import { useCallback, useEffect, useRef, useState } from 'react'
import { api } from '../api/client'
import { ProblemNote } from '../teams/ProblemNote'
import { SettingsPage } from '../teams/SettingsPage'
import { useSession } from '../teams/session'
import { useLoad } from '../teams/useLoad'
import { credentialsApi, type Credential } from './api'
import { CredentialForm } from './CredentialForm'
import { CredentialsTable } from './CredentialsTable'

/** The list, each with where it is used (GET one carries used_by, the list does not) and its creator's name. */
async function loadAll(withUse: boolean): Promise<Credential[]> {
  const [list, members] = await Promise.all([credentialsApi.list(), withUse ? api.listMembers().catch(() => ({ items: [] })) : { items: [] }])
  if (!withUse) return list
  const who = new Map(members.items.map((m) => [m.user_id, m.name || m.email]))
  return Promise.all(list.map((c) => credentialsApi.get(c.id).then((d) => ({ ...c, ...d }), () => c)
    .then((d) => ({ ...d, created_by: d.created_by ? who.get(d.created_by) ?? d.created_by : null }))))
}

export function Credentials() {
  const { me } = useSession()
  const canEdit = me.role !== 'viewer'
  const creds = useLoad(useCallback(() => loadAll(canEdit), [canEdit]))
  const [open, setOpen] = useState<'new' | Credential | null>(null)
  const [saved, setSaved] = useState<string | null>(null)
  const done = (c: Credential) => { setOpen(null); setSaved(c.name); creds.reload() }
  // The form goes with the save: the focus goes to what it did, not back to the page's top.
  const savedNote = useRef<HTMLParagraphElement>(null)
  useEffect(() => { if (saved) savedNote.current?.focus() }, [saved])
  return (
    <SettingsPage title="Credentials" path="/settings/credentials">
      <p className="muted">Tokens, passwords and keys the workflows use, stored encrypted. A node keeps only the credential’s id:
        the secret never appears in a graph, a version, a template or a run.</p>
      {!canEdit && <p className="muted" data-testid="credentials-readonly">Only editors and owners can add or change credentials.</p>}
      <ProblemNote refusal={creds.refusal} testId="credentials-load-error" />
      {canEdit && (
        <section aria-labelledby="credential-form-title">
          <h2 id="credential-form-title">{open && open !== 'new' ? `Edit ${open.name}` : 'New credential'}</h2>
          {saved && !open && <p role="status" className="small" ref={savedNote} tabIndex={-1} data-testid="credential-saved">Saved “{saved}”. Its secret is stored and will not be shown again.</p>}
          {open ? (
            <CredentialForm key={open === 'new' ? 'new' : open.id} editing={open === 'new' ? undefined : open} idPrefix="credential"
              onSaved={done} onCancel={() => setOpen(null)} />
          ) : (
            <button className="btn primary" onClick={() => { setSaved(null); setOpen('new') }} data-testid="credential-new">New credential</button>
          )}
        </section>
      )}
      {creds.data && <CredentialsTable credentials={creds.data} canEdit={canEdit} onChanged={creds.reload}
        onEdit={(c) => { setSaved(null); setOpen(c) }} />}
    </SettingsPage>
  )
}
