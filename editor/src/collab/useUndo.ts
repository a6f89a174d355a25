// Undo/redo of this user's own changes only: a Y.UndoManager tracking LOCAL_ORIGIN transactions.
import { useEffect, useMemo, useState } from 'react'
import * as Y from 'yjs'
import { LOCAL_ORIGIN, roots } from './convert'

export const CAPTURE_MS = 400

export function useUndo(doc: Y.Doc | undefined) {
  const manager = useMemo(() => {
    if (!doc) return null
    const r = roots(doc)
    return new Y.UndoManager([r.meta, r.nodes, r.edges, r.notes], {
      trackedOrigins: new Set([LOCAL_ORIGIN]),
      captureTimeout: CAPTURE_MS,
    })
  }, [doc])
  const [counts, setCounts] = useState({ undo: 0, redo: 0 })

  useEffect(() => {
    if (!manager) return
    const sync = () => setCounts({ undo: manager.undoStack.length, redo: manager.redoStack.length })
    manager.on('stack-item-added', sync)
    manager.on('stack-item-popped', sync)
    manager.on('stack-cleared', sync)
    return () => manager.destroy()
  }, [manager])

  return {
    manager,
    canUndo: counts.undo > 0,
    canRedo: counts.redo > 0,
    undo: () => manager?.undo(),
    redo: () => manager?.redo(),
    /** One gesture (a drag) = one step: hold the capture open until endGesture. */
    beginGesture: () => { if (manager) { manager.stopCapturing(); manager.captureTimeout = 1e9 } },
    endGesture: () => { if (manager) { manager.captureTimeout = CAPTURE_MS; manager.stopCapturing() } },
  }
}
