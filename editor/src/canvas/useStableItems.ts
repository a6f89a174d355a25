// Structural sharing for React Flow's nodes and edges: an item equal (as JSON) to the one drawn before keeps
// its object, and a changed item keeps its `data` object when only its position, size or selection moved.
// React Flow then skips unchanged nodes (adoptUserNodes compares by identity) and memo'd node components
// skip unchanged data, so a document update or a validation result touches only what changed.
// `measured` and the first-draw geometry (geometry.ts) are not compared: React Flow keeps its own measurement
// on an unchanged node, and a rebuilt node carries the latest one.
import { useMemo, useRef } from 'react'
import { same } from '../collab/convert'

type Item = { id: string; data?: unknown; measured?: unknown; handles?: unknown }

const UNCOMPARED = { measured: null, handles: null }
const sameButMeasured = (a: Item, b: Item) => same({ ...a, ...UNCOMPARED }, { ...b, ...UNCOMPARED })

export function useStableItems<T extends Item>(items: T[]): T[] {
  const prev = useRef<{ list: T[]; byId: Map<string, T> }>({ list: [], byId: new Map() })
  return useMemo(() => {
    const before = prev.current
    const byId = new Map<string, T>()
    let changed = items.length !== before.list.length
    const list = items.map((item, i) => {
      const old = before.byId.get(item.id)
      let next = item
      if (old) {
        if (sameButMeasured(old, item)) next = old
        else if (item.data !== undefined && same(old.data, item.data)) next = { ...item, data: old.data }
      }
      byId.set(item.id, next)
      if (next !== before.list[i]) changed = true
      return next
    })
    if (!changed) return before.list
    prev.current = { list, byId }
    return list
  }, [items])
}
