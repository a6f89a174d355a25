// /settings/workspace: name (owners rename), tier, which AI enhancements the tier unlocks, run retention, a new workspace.
import { useCallback } from 'react'
import { api } from '../api/client'
import { CreateWorkspace } from './CreateWorkspace'
import { ProblemNote } from './ProblemNote'
import { RenameWorkspace } from './RenameWorkspace'
import { SettingsPage } from './SettingsPage'
import { useSession } from './session'
import { useLoad } from './useLoad'
import { RetentionSettings } from '../runs/RetentionSettings'

export function WorkspaceSettings() {
  const { refresh } = useSession()
  const current = useLoad(useCallback(() => api.currentWorkspace(), []))
  const ws = current.data
  return (
    <SettingsPage title="Workspace" path="/settings/workspace">
      <ProblemNote refusal={current.refusal} testId="workspace-load-error" />
      {ws && (
        <section aria-labelledby="workspace-title">
          <h2 id="workspace-title">{ws.name} <span className="muted small mono">{ws.slug}</span></h2>
          {ws.role === 'owner'
            ? <RenameWorkspace key={ws.id} ws={ws} onRenamed={() => { current.reload(); refresh() }} />
            : <p className="muted">Only an owner can rename the workspace.</p>}
          <p>Plan: <span className="pill" data-testid="workspace-tier">{ws.tier}</span> <span className="muted small">(the instance admin sets it)</span></p>
          <h3>AI enhancements</h3>
          <table className="data-table" data-testid="enhancements-table">
            <thead><tr><th scope="col">Enhancement</th><th scope="col">What it does</th><th scope="col">Plans</th><th scope="col">Here</th></tr></thead>
            <tbody>
              {ws.enhancements.map((e) => (
                <tr key={e.key} data-testid={`enhancement-${e.key}`} data-unlocked={e.unlocked}>
                  <td>{e.name}</td>
                  <td className="small">{e.description}</td>
                  <td className="small">{e.tiers.join(', ')}</td>
                  <td><span className={`pill ${e.unlocked ? 'state-succeeded' : ''}`}>{e.unlocked ? 'unlocked' : 'locked'}</span></td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {ws && <RetentionSettings isOwner={ws.role === 'owner'} />}
      <CreateWorkspace />
    </SettingsPage>
  )
}
