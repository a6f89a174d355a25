// What node components need besides their (serializable) data: the doc operations and the catalogue.
import { createContext, useContext } from 'react'
import type { NodeType } from '../api/types'
import type { Ops } from '../collab/ops'

export interface CanvasCtx {
  ops: Ops | null
  readOnly: boolean
  catalogue: Map<string, NodeType>
  refuseReason: (c: { source: string | null; sourceHandle?: string | null; target: string | null; targetHandle?: string | null }) => string | null
}
export const CanvasContext = createContext<CanvasCtx>({ ops: null, readOnly: true, catalogue: new Map(), refuseReason: () => null })
export const useCanvas = () => useContext(CanvasContext)

/** React Flow ids of sticky notes carry this prefix (node ids never do). */
export const NOTE = 'note:'
