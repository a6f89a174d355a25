// Presence beyond cursors: my selection goes out through awareness; co-editors' selections and drags come back
// per node (who has it selected, who is dragging it), and the newest run a co-editor started is followed.
import { useEffect, useMemo, type MutableRefObject } from 'react'
import type { usePresence } from '../collab/usePresence'
import type { useRunState } from './useRunState'
import { NOTE } from './context'

type Presence = ReturnType<typeof usePresence>
type Runs = ReturnType<typeof useRunState>

export function useSharedSelection(presence: Presence, selected: Set<string>, runs: Runs, lastRunAt: MutableRefObject<number>) {
  useEffect(() => { presence.update({ selection: [...selected].filter((id) => !id.startsWith(NOTE)) }) }, [selected, presence.update])
  // Keyed by content, so peers' cursor moves do not redraw every node.
  const selKey = JSON.stringify(presence.peers.map((p) => [p.user.name, p.user.color, p.selection ?? [], Object.keys(p.dragging ?? {})]))
  const shared = useMemo(() => {
    const sel: Record<string, { name: string; color: string }[]> = {}
    const drag: Record<string, string> = {}
    for (const [name, color, ids, dragging] of JSON.parse(selKey) as [string, string, string[], string[]][]) {
      for (const id of ids) (sel[id] ??= []).push({ name, color })
      for (const id of dragging) drag[id] = name
    }
    return { remoteSel: sel, draggedBy: drag }
  }, [selKey])
  // Runs are shared through awareness: follow the newest run a co-editor started.
  useEffect(() => {
    for (const p of presence.peers) {
      if (p.run && p.run.at > lastRunAt.current && p.run.id !== runs.run?.id) { lastRunAt.current = p.run.at; runs.show(p.run.id) }
    }
  }, [presence.peers, runs, lastRunAt])
  return shared
}
