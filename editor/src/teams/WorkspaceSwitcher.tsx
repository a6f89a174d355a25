// The top bar's workspace switcher: POST /api/auth/switch, then the screens reload for the new workspace.
import { useState } from 'react'
import { refusalOf } from './problem'
import { useSession } from './session'
import { useWorkspaces } from './useWorkspaces'

export function WorkspaceSwitcher() {
  const { me, switchTo } = useSession()
  const workspaces = useWorkspaces(me)
  const [error, setError] = useState<string | null>(null)
  const change = async (id: string) => {
    setError(null)
    try { await switchTo(id) } catch (e) { setError(refusalOf(e).detail) }
  }
  return (
    <span className="ws-switcher">
      <select className="input ws-select" aria-label="Workspace" value={me.tenant_id} data-testid="workspace-switcher"
        onChange={(e) => change(e.target.value)}>
        {workspaces.map((w) => <option key={w.id} value={w.id}>{w.name} ({w.role})</option>)}
      </select>
      {error && <span className="problem error small" role="alert" data-testid="workspace-switch-error">{error}</span>}
    </span>
  )
}
