// /settings/members: members, pending invitations, and (for owners) the invite form.
import { useCallback } from 'react'
import { api } from '../api/client'
import { InvitationsTable } from './InvitationsTable'
import { InviteForm } from './InviteForm'
import { MembersTable } from './MembersTable'
import { ProblemNote } from './ProblemNote'
import { SettingsPage } from './SettingsPage'
import { useSession } from './session'
import { useLoad } from './useLoad'

const loadAll = () => Promise.all([api.listMembers(), api.listInvitations().catch(() => ({ items: [] }))])

export function Members() {
  const { me, refresh } = useSession()
  const isOwner = me.role === 'owner'
  const { data, refusal, reload } = useLoad(useCallback(loadAll, []))
  // a role change may be one's own (an owner who hands over): the session's role follows
  const changed = () => { reload(); refresh() }
  return (
    <SettingsPage title="Members" path="/settings/members">
      {!isOwner && <p className="muted" data-testid="members-readonly">Only an owner can invite people or change roles.</p>}
      <ProblemNote refusal={refusal} testId="members-load-error" />
      {isOwner && <InviteForm onInvited={reload} />}
      {data && <MembersTable members={data[0].items} meId={me.user_id} isOwner={isOwner} onChanged={changed} />}
      {data && <InvitationsTable invitations={data[1].items} isOwner={isOwner} onChanged={reload} />}
    </SettingsPage>
  )
}
