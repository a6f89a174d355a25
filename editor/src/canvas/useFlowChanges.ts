// React Flow's node and edge changes -> local state, awareness and the doc: selection,
// drags (awareness every ~40 ms, doc every ~100 ms and at the end, one undo step) and note resizing.
import { useCallback, useRef, useState } from 'react'
import type { EdgeChange, Node, NodeChange } from '@xyflow/react'
import type { Position } from '../api/types'
import type { Ops } from '../collab/ops'
import type { PresenceState } from '../collab/usePresence'
import type { useUndo } from '../collab/useUndo'
import { makeThrottle } from './throttle'
import { NOTE } from './context'

type Size = { width: number; height: number }

interface Args {
  ops: Ops | null
  undo: ReturnType<typeof useUndo>
  updatePresence: (fields: Partial<PresenceState>) => void
  selected: Set<string>
  setSelected: (s: Set<string>) => void
  selectedEdges: Set<string>
  setSelectedEdges: (s: Set<string>) => void
}

export function useFlowChanges({ ops: o, undo, updatePresence, selected, setSelected, selectedEdges, setSelectedEdges }: Args) {
  const [localDrag, setLocalDrag] = useState<Record<string, Position> | null>(null)
  const [noteSize, setNoteSize] = useState<Record<string, Size>>({})
  const drag = useRef<Record<string, Position>>({})
  const awarenessThrottle = useRef(makeThrottle(40)).current
  const docThrottle = useRef(makeThrottle(100)).current
  const resizing = useRef<Record<string, Size>>({})
  const onNodesChange = useCallback((changes: NodeChange[]) => {
    let sel: Set<string> | null = null
    let dragged = false
    for (const c of changes) {
      if (c.type === 'select') { sel ??= new Set(selected); if (c.selected) sel.add(c.id); else sel.delete(c.id) }
      else if (c.type === 'position' && c.position && o && (c.dragging || resizing.current[c.id])) { drag.current = { ...drag.current, [c.id]: c.position }; dragged = true }
      else if (c.type === 'dimensions' && c.dimensions) {
        if (c.id.startsWith(NOTE) && c.resizing) { resizing.current[c.id] = c.dimensions; setNoteSize((s) => ({ ...s, [c.id]: c.dimensions! })) }
        else if (c.id.startsWith(NOTE) && c.resizing === false) {
          const size = resizing.current[c.id] ?? c.dimensions
          delete resizing.current[c.id]
          const p = drag.current[c.id]
          o?.updateNote(c.id.slice(NOTE.length), { width: Math.round(size.width), height: Math.round(size.height), ...(p ? { position: { x: Math.round(p.x), y: Math.round(p.y) } } : {}) })
          drag.current = {}
          setTimeout(() => { setNoteSize((s) => { const n = { ...s }; delete n[c.id]; return n }); setLocalDrag(null) }, 60)
        }
        // Other measurements stay in React Flow's store (its internal node keeps them while our node object is
        // unchanged; Editor reads them when it rebuilds a node): echoing them back would redraw every node again.
      }
    }
    if (sel) setSelected(sel)
    if (dragged) {
      setLocalDrag({ ...drag.current })
      const positions = { ...drag.current }
      awarenessThrottle(() => updatePresence({ dragging: positions }))
      if (!Object.keys(resizing.current).length) docThrottle(() => o?.setPositions(positions))
    }
  }, [selected, o, updatePresence])

  const onNodeDragStart = useCallback(() => { drag.current = {}; undo.beginGesture() }, [undo])
  const onNodeDragStop = useCallback((_e: unknown, _n: Node, nodes: Node[]) => {
    awarenessThrottle.cancel()
    docThrottle.cancel()
    const final = { ...drag.current }
    for (const n of nodes) final[n.id] = final[n.id] ?? n.position
    o?.setPositions(final)
    undo.endGesture()
    updatePresence({ dragging: null })
    drag.current = {}
    setTimeout(() => setLocalDrag(null), 60)
  }, [o, undo, updatePresence])

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    let sel: Set<string> | null = null
    for (const c of changes) if (c.type === 'select') { sel ??= new Set(selectedEdges); if (c.selected) sel.add(c.id); else sel.delete(c.id) }
    if (sel) setSelectedEdges(sel)
  }, [selectedEdges])

  return { localDrag, noteSize, onNodesChange, onNodeDragStart, onNodeDragStop, onEdgesChange }
}
