// /admin: the instance admin's list of every workspace with its plan (tier), changed per row.
import { useCallback } from 'react'
import { api } from '../api/client'
import type { AdminWorkspace, Tier } from '../api/types'
import { ProblemNote } from './ProblemNote'
import { SettingsPage } from './SettingsPage'
import { useAction } from './useAction'
import { useLoad } from './useLoad'

const TIERS: Tier[] = ['free', 'premium', 'enterprise']

export function Admin() {
  const list = useLoad(useCallback(() => api.adminWorkspaces(), []))
  const act = useAction()
  const setTier = async (w: AdminWorkspace, tier: Tier) => { await act.run(() => api.setWorkspaceTier(w.id, tier)); list.reload() }
  return (
    <SettingsPage title="Admin: workspaces" path="/admin">
      <ProblemNote refusal={act.refusal ?? list.refusal} testId="admin-error" />
      {list.data && (
        <section aria-label="Workspaces">
        <table className="data-table" data-testid="admin-table">
          <thead><tr><th scope="col">Workspace</th><th scope="col">Slug</th><th scope="col">Members</th><th scope="col">Created</th><th scope="col">Plan</th></tr></thead>
          <tbody>
            {list.data.items.map((w) => (
              <tr key={w.id} data-testid={`admin-row-${w.slug}`}>
                <td>{w.name}</td>
                <td className="mono">{w.slug}</td>
                <td>{w.members}</td>
                <td className="muted small">{new Date(w.created_at).toLocaleDateString()}</td>
                <td>
                  <select className="input compact" aria-label={`Plan of ${w.name}`} value={w.tier} disabled={act.busy}
                    data-testid={`admin-tier-${w.slug}`} onChange={(e) => setTier(w, e.target.value as Tier)}>
                    {TIERS.map((t) => <option key={t} value={t}>{t}</option>)}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </section>
      )}
    </SettingsPage>
  )
}
