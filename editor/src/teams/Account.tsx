// /settings/account: name, password, sessions.
import { useCallback } from 'react'
import { api } from '../api/client'
import { PasswordForm } from './PasswordForm'
import { ProblemNote } from './ProblemNote'
import { ProfileForm } from './ProfileForm'
import { SessionsTable } from './SessionsTable'
import { SettingsPage } from './SettingsPage'
import { useLoad } from './useLoad'

export function Account() {
  const sessions = useLoad(useCallback(() => api.listSessions(), []))
  return (
    <SettingsPage title="Account" path="/settings/account">
      <ProfileForm />
      <PasswordForm onChanged={sessions.reload} />
      <ProblemNote refusal={sessions.refusal} testId="sessions-load-error" />
      {sessions.data && <SessionsTable sessions={sessions.data.items} onChanged={sessions.reload} />}
    </SettingsPage>
  )
}
