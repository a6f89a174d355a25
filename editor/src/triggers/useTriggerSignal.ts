// Co-editors' Triggers panels follow each other's changes without a reload. Triggers live in the database,
// not in the shared Y.Doc (whose meta map becomes the saved graph), so the signal is an awareness field:
// whoever changes a trigger bumps its own `triggers` counter; every other open panel sees a peer's counter
// move and refetches. Awareness is relayed by the collab server for viewers too, and never stored.
import { useCallback, useEffect, useState } from 'react'
import type { WebsocketProvider } from 'y-websocket'

export function useTriggerSignal(provider: WebsocketProvider | undefined) {
  const [stamp, setStamp] = useState(0)
  const awareness = provider?.awareness

  useEffect(() => {
    if (!awareness) return
    const seen = new Map<number, number>()
    const read = () => {
      let moved = false
      awareness.getStates().forEach((state: { triggers?: unknown }, clientId: number) => {
        const n = typeof state?.triggers === 'number' ? state.triggers : 0
        if (clientId === awareness.clientID || !n || seen.get(clientId) === n) return
        seen.set(clientId, n)
        moved = true
      })
      return moved
    }
    read() // counters already there: this panel has just fetched anyway
    const onChange = () => { if (read()) setStamp((s) => s + 1) }
    awareness.on('change', onChange)
    return () => { awareness.off('change', onChange) }
  }, [awareness])

  /** Tell the co-editors' panels that a trigger changed. */
  const signal = useCallback(() => {
    if (!awareness) return
    const cur = (awareness.getLocalState() ?? {}) as { triggers?: number }
    awareness.setLocalStateField('triggers', (cur.triggers ?? 0) + 1)
  }, [awareness])

  return { stamp, signal }
}
