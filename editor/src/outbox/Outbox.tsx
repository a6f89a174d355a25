// The built-in outbox (/outbox, /outbox/<id>): mail sent while no provider is configured is kept, not sent.
// A message shows its headers, its HTML in a sandboxed iframe (no scripts, no network) and its text part.
import { useEffect, useMemo, useState } from 'react'
import { api } from '../api/client'
import type { Me, OutboxMessage, OutboxMessageDetail } from '../api/types'
import { ago } from '../canvas/RunHistory'
import { parseMessage } from './mime'
import { AppHeader } from '../pages/AppHeader'

const SHOWN_HEADERS = ['from', 'to', 'subject', 'date', 'reply-to', 'message-id', 'list-unsubscribe']
// Prepended to the HTML part: the frame loads nothing from the network (no tracking pixels, no remote CSS).
const NO_NETWORK = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`

export function Outbox({ me, messageId }: { me: Me; messageId: string | null }) {
  const [items, setItems] = useState<OutboxMessage[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => { api.listOutbox().then(setItems).catch((e) => setError(e.message)) }, [])
  return (
    <div className="page" data-testid="outbox">
      <AppHeader>
        <span className="muted small">{me.name || me.email}</span>
      </AppHeader>
      <main className="list-page outbox-page">
        <div className="list-head">
          <a href="/" className="btn" data-testid="outbox-back">← Workflows</a>
          <h1>Outbox</h1>
          <div className="grow" />
          <span className="muted small">Mail from runs while no email provider is set up: kept here, never sent.</span>
        </div>
        {error && <div className="problem error" data-testid="outbox-error">{error}</div>}
        <div className="outbox-layout">
          {items === null ? <p className="muted">Loading…</p> : items.length === 0 ? (
            <div className="empty-card grow" data-testid="outbox-empty"><p>No mail in the outbox.</p></div>
          ) : (
            <div className="wf-table outbox-list" data-testid="outbox-list">
              {items.map((m) => (
                <a key={m.id} href={`/outbox/${m.id}`} className={`wf-row outbox-row${m.id === messageId ? ' on' : ''}`} data-testid={`outbox-row-${m.id}`}>
                  <div className="wf-main">
                    <div className="outbox-subject">{m.subject || '(no subject)'}</div>
                    <div className="muted small">to {m.recipient}</div>
                    {m.run_id && <div className="muted small mono">run {m.run_id.slice(0, 8)}{m.node_id ? ` · ${m.node_id}` : ''}</div>}
                  </div>
                  <span className="muted small wf-date" title={m.created_at}>{ago(m.created_at)}</span>
                </a>
              ))}
            </div>
          )}
          {messageId && <MessageView key={messageId} id={messageId} />}
        </div>
      </main>
    </div>
  )
}

function MessageView({ id }: { id: string }) {
  const [msg, setMsg] = useState<OutboxMessageDetail | null>(null)
  const [workflowId, setWorkflowId] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    api.getOutbox(id).then((m) => {
      setMsg(m)
      if (m.run_id) api.getRun(m.run_id).then((r) => setWorkflowId(r.workflow_id)).catch(() => {})
    }).catch((e) => setError(e.status === 404 ? 'This message is not in your outbox.' : e.message))
  }, [id])
  const parsed = useMemo(() => (msg ? parseMessage(msg.raw) : null), [msg])
  if (error) return <section className="outbox-message"><div className="problem error" data-testid="outbox-error">{error}</div></section>
  if (!msg || !parsed) return <section className="outbox-message"><p className="muted">Loading…</p></section>
  const headers = parsed.headers.filter(([k]) => SHOWN_HEADERS.includes(k.toLowerCase()))
  return (
    <section className="outbox-message" data-testid="outbox-message">
      <h2 data-testid="outbox-subject">{msg.subject || '(no subject)'}</h2>
      <table className="outbox-headers" data-testid="outbox-headers"><tbody>
        {headers.map(([k, v], i) => <tr key={i}><th>{k}</th><td className={k.toLowerCase() === 'message-id' ? 'mono small' : ''}>{v}</td></tr>)}
        {msg.run_id && (
          <tr><th>Run</th><td className="mono small">
            {msg.run_id}{msg.node_id ? ` · node ${msg.node_id}` : ''}
            {workflowId && <> · <a href={`/workflows/${workflowId}`} data-testid="outbox-workflow">open the workflow</a></>}
          </td></tr>
        )}
      </tbody></table>
      {parsed.html !== null && (
        <>
          <h3>HTML</h3>
          <iframe className="outbox-html" data-testid="outbox-html" title="HTML part" sandbox="" srcDoc={NO_NETWORK + parsed.html} />
        </>
      )}
      {parsed.text !== null && (
        <>
          <h3>Text</h3>
          <pre className="outbox-text" data-testid="outbox-text">{parsed.text}</pre>
        </>
      )}
      <details><summary className="muted small">Raw message</summary><pre className="outbox-text mono small" data-testid="outbox-raw">{msg.raw}</pre></details>
    </section>
  )
}
