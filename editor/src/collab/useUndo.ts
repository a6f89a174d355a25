// Undo/redo of this user's own changes only: a Y.UndoManager tracking LOCAL_ORIGIN transactions.
import { useEffect, useMemo, useState } from 'react'
import * as Y from 'yjs'
import { LOCAL_ORIGIN, roots } from './convert'

export const CAPTURE_MS = 400

export function useUndo(doc: Y.Doc | undefined) {
  const [manager, setManager] = useState<Y.UndoManager | null>(null)
  const [counts, setCounts] = useState({ undo: 0, redo: 0 })

  useEffect(() => {
    if (!doc) return
    const r = roots(doc)
    const m = new Y.UndoManager([r.meta, r.nodes, r.edges, r.notes], {
      trackedOrigins: new Set([LOCAL_ORIGIN]),
      captureTimeout: CAPTURE_MS,
    })
    const sync = () => setCounts({ undo: m.undoStack.length, redo: m.redoStack.length })
    m.on('stack-item-added', sync)
    m.on('stack-item-popped', sync)
    m.on('stack-cleared', sync)
    setManager(m)
    sync()
    return () => { m.destroy(); setManager(null) }
  }, [doc])

  // One object per manager and counts: callbacks built on it keep their identity across renders.
  return useMemo(() => ({
    manager,
    canUndo: counts.undo > 0,
    canRedo: counts.redo > 0,
    undo: () => { manager?.undo() },
    redo: () => { manager?.redo() },
    /** One gesture (a drag) = one step: hold the capture open until endGesture. */
    beginGesture: () => { if (manager) { manager.stopCapturing(); manager.captureTimeout = 1e9 } },
    endGesture: () => { if (manager) { manager.captureTimeout = CAPTURE_MS; manager.stopCapturing() } },
  }), [manager, counts])
}
