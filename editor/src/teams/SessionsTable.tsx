// The account's browser sessions (the current one marked) with Revoke.
import { api } from '../api/client'
import type { Session } from '../api/types'
import { ago } from '../canvas/RunHistory'
import { ProblemNote } from './ProblemNote'
import { useAction } from './useAction'

export function SessionsTable({ sessions, onChanged }: { sessions: Session[]; onChanged: () => void }) {
  const act = useAction()
  const revoke = async (s: Session) => { await act.run(() => api.revokeSession(s.id)); onChanged() }
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <ProblemNote refusal={act.refusal} testId="sessions-error" />
      <table className="data-table" data-testid="sessions-table">
        <thead><tr><th scope="col">Browser</th><th scope="col">Address</th><th scope="col">Started</th><th scope="col">Last seen</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id} data-testid={`session-${s.id}`} data-current={s.current || undefined}>
              <td>{s.user_agent || 'unknown'}{s.current && <span className="pill state-succeeded"> this session</span>}</td>
              <td className="mono">{s.ip || ''}</td>
              <td className="muted small">{ago(s.created_at)}</td>
              <td className="muted small">{s.last_seen_at ? ago(s.last_seen_at) : ''}</td>
              <td className="row-actions">
                {!s.current && <button className="btn small" onClick={() => revoke(s)} disabled={act.busy}
                  aria-label={`Revoke the session from ${s.user_agent || 'an unknown browser'}`} data-testid={`session-revoke-${s.id}`}>Revoke</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
