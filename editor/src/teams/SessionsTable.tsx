// The account's browser sessions (the current one marked) with Revoke.
import { api } from '../api/client'
import type { Session } from '../api/types'
import { ago } from '../canvas/RunHistory'
import { ProblemNote } from './ProblemNote'
import { useAction } from './useAction'
import { useHeadingFocus } from './useHeadingFocus'

/** "Firefox on Linux" from a User-Agent header (the full header stays in the cell's title). */
export function describeAgent(ua: string | null): string {
  if (!ua) return 'Unknown browser'
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari' : /^python-httpx|curl|Wget/i.test(ua) ? ua.split(/[/ ]/)[0] : 'Browser'
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS X|Macintosh/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android'
    : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : ''
  return os ? `${browser} on ${os}` : browser
}

export function SessionsTable({ sessions, onChanged }: { sessions: Session[]; onChanged: () => void }) {
  const act = useAction()
  const heading = useHeadingFocus()
  const revoke = async (s: Session) => { await act.run(() => api.revokeSession(s.id)); onChanged(); heading.focus() }
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title" ref={heading.ref} tabIndex={heading.tabIndex}>Sessions</h2>
      <ProblemNote refusal={act.refusal} testId="sessions-error" />
      <table className="data-table" data-testid="sessions-table">
        <thead><tr><th scope="col">Browser</th><th scope="col">Address</th><th scope="col">Started</th><th scope="col">Last seen</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id} data-testid={`session-${s.id}`} data-current={s.current || undefined}>
              <td title={s.user_agent ?? undefined}>{describeAgent(s.user_agent)}{s.current && <> <span className="pill state-succeeded">this session</span></>}</td>
              <td className="mono">{s.ip || ''}</td>
              <td className="muted small">{ago(s.created_at)}</td>
              <td className="muted small">{s.last_seen_at ? ago(s.last_seen_at) : ''}</td>
              <td className="row-actions">
                {!s.current && <button className="btn small" onClick={() => revoke(s)} disabled={act.busy}
                  aria-label={`Revoke the session of ${describeAgent(s.user_agent)} from ${s.ip || 'an unknown address'}`} data-testid={`session-revoke-${s.id}`}>Revoke</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
