// Remote cursors (flow coordinates, drawn in the viewport) and the faces of who is here.
import { ViewportPortal, useConnection } from '@xyflow/react'
import type { Peer } from '../collab/usePresence'
import { useCanvas } from './context'

export function RemoteCursors({ peers }: { peers: Peer[] }) {
  return (
    <ViewportPortal>
      {peers.filter((p) => p.cursor).map((p) => (
        <div key={p.clientId} className="remote-cursor" data-testid={`cursor-${p.user.id}`} data-client-id={p.clientId}
          style={{ transform: `translate(${p.cursor!.x}px, ${p.cursor!.y}px)`, color: p.user.color }}>
          <svg width="18" height="18" viewBox="0 0 18 18"><path d="M1 1l6 16 2.5-6.5L16 8z" fill="currentColor" stroke="white" strokeWidth="1.2" /></svg>
          <span style={{ background: p.user.color }}>{p.user.name}</span>
        </div>
      ))}
    </ViewportPortal>
  )
}

export function Faces({ peers, me }: { peers: Peer[]; me: { name: string; color: string } }) {
  const seen = new Set<number>()
  const list = peers.filter((p) => !seen.has(p.clientId) && seen.add(p.clientId))
  return (
    <div className="faces" data-testid="presence">
      {[{ key: 'me', name: me.name + ' (you)', color: me.color }, ...list.map((p) => ({ key: String(p.clientId), name: p.user.name, color: p.user.color }))]
        .map((f) => <span key={f.key} className="face" title={f.name} style={{ background: f.color }} data-testid={`presence-${f.key}`}>
          {f.name.replace(/[^A-Za-z]/g, '').slice(0, 1).toUpperCase() || '?'}</span>)}
    </div>
  )
}

/** While a connection is dragged over a port it may not join, say why next to the pointer. */
export function ConnectionHint() {
  const c = useConnection()
  const { refuseReason } = useCanvas()
  if (!c.inProgress || !c.toHandle || c.isValid !== false) return null
  const from = c.fromHandle, to = c.toHandle
  const reason = from.type === 'source'
    ? refuseReason({ source: from.nodeId, sourceHandle: from.id, target: to.nodeId, targetHandle: to.id })
    : refuseReason({ source: to.nodeId, sourceHandle: to.id, target: from.nodeId, targetHandle: from.id })
  if (!reason) return null
  return (
    <ViewportPortal>
      <div className="connection-hint" data-testid="connection-refused" style={{ transform: `translate(${c.to.x + 14}px, ${c.to.y + 12}px)` }}>
        {reason}
      </div>
    </ViewportPortal>
  )
}
