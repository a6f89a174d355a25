// Awareness: who is here, their cursor (flow coordinates), selection, live drag positions and shown run.
import { useCallback, useEffect, useMemo, useState } from 'react'
import type { WebsocketProvider } from 'y-websocket'
import type { Position } from '../api/types'

export interface PresenceUser { id: string; name: string; color: string }
export interface PresenceState {
  user?: PresenceUser
  cursor?: Position | null
  selection?: string[]
  dragging?: Record<string, Position> | null
  run?: { id: string; at: number } | null // the run this person started last (runs shared between co-editors)
}
export interface Peer extends PresenceState { clientId: number; user: PresenceUser }

const COLORS = ['#e11d48', '#2563eb', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d']
export const colorFor = (id: string) => COLORS[[...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % COLORS.length]

export function usePresence(provider: WebsocketProvider | undefined, me: PresenceUser | null) {
  const [peers, setPeers] = useState<Peer[]>([])
  const awareness = provider?.awareness

  useEffect(() => {
    if (!awareness || !me) return
    awareness.setLocalState({ user: me, cursor: null, selection: [], dragging: null, run: null })
    const onChange = (changes?: { added: number[]; updated: number[]; removed: number[] }) => {
      // Our own cursor moves need no re-render here.
      if (changes && [...changes.added, ...changes.updated, ...changes.removed].every((id) => id === awareness.clientID)) return
      const list: Peer[] = []
      awareness.getStates().forEach((s: PresenceState, clientId: number) => {
        if (clientId !== awareness.clientID && s.user) list.push({ ...s, clientId, user: s.user })
      })
      setPeers(list)
    }
    awareness.on('change', onChange)
    onChange()
    return () => { awareness.off('change', onChange) }
  }, [awareness, me?.id, me?.name, me?.color])

  const update = useCallback((fields: Partial<PresenceState>) => {
    if (!awareness) return
    const cur = awareness.getLocalState() ?? {}
    awareness.setLocalState({ ...cur, ...fields })
  }, [awareness])

  // Everyone's live drag positions, merged (the last dragger of a node wins).
  // Keyed by content: peers' cursor moves alone do not produce a new object (and redraw every node).
  const dragKey = JSON.stringify(peers.map((p) => p.dragging ?? null))
  const remoteDrag = useMemo(() => {
    const out: Record<string, Position> = {}
    for (const d of JSON.parse(dragKey) as (Record<string, Position> | null)[]) Object.assign(out, d ?? {})
    return out
  }, [dragKey])

  return { peers, update, remoteDrag }
}
