// /settings/email: the sending provider and its sender domain, webhook signing, the suppression list.
// Owners change the provider; editors add and remove suppressions; the rest is read-only.
import { useCallback } from 'react'
import { ProblemNote } from '../../teams/ProblemNote'
import { SettingsPage } from '../../teams/SettingsPage'
import { useSession } from '../../teams/session'
import { useLoad } from '../../teams/useLoad'
import { emailApi } from './api'
import { ProviderForm } from './ProviderForm'
import { Suppressions } from './Suppressions'
import { WebhookSigning } from './WebhookSigning'

export function EmailSettings() {
  const { me } = useSession()
  const isOwner = me.role === 'owner'
  const provider = useLoad(useCallback(() => emailApi.provider(), []))
  const p = provider.data
  return (
    <SettingsPage title="Email" path="/settings/email">
      <ProblemNote refusal={provider.refusal} testId="email-provider-load-error" />
      {p && <ProviderForm provider={p} isOwner={isOwner} onSaved={provider.reload} />}
      {p && <WebhookSigning provider={p} isOwner={isOwner} onSaved={provider.reload} />}
      <Suppressions canEdit={me.role === 'owner' || me.role === 'editor'} />
    </SettingsPage>
  )
}
