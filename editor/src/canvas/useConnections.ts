// Connecting ports: a mismatched type, a second edge into a single input or a loop onto the same node is refused
// with a reason (shown as a toast when the drag ends on a port), everything else becomes an edge in the doc.
import { useCallback, useRef, type MutableRefObject } from 'react'
import type { Connection, Edge } from '@xyflow/react'
import type { Graph, GraphNode, NodeType } from '../api/types'
import type { Ops } from '../collab/ops'
import type { CanvasCtx } from './context'
import { outputsOf } from './ports'

interface Args {
  graphRef: MutableRefObject<Graph>
  specOf: (n: GraphNode | undefined) => NodeType | undefined
  ops: Ops | null
  readOnly: boolean
  setToast: (message: string) => void
}

export function useConnections({ graphRef, specOf, ops: o, readOnly, setToast }: Args) {
  const refuseReason = useCallback<CanvasCtx['refuseReason']>((c) => {
    if (!c.source || !c.target) return null
    if (c.source === c.target) return 'A node cannot connect to itself'
    const g = graphRef.current
    const src = g.nodes.find((n) => n.id === c.source), tgt = g.nodes.find((n) => n.id === c.target)
    const out = outputsOf(src, specOf(src)).find((p) => p.name === c.sourceHandle)
    const tspec = specOf(tgt)
    const inp = tspec?.inputs.find((p) => p.name === c.targetHandle)
    if (tspec?.trigger) return 'Triggers start runs and take no input'
    if (!out || !inp) return null
    if (out.type !== 'any' && inp.type !== 'any' && out.type !== inp.type)
      return `Port types do not match: ${out.name} gives ${out.type}, ${inp.name} takes ${inp.type}`
    const into = g.edges.filter((e) => e.target === c.target && e.target_port === c.targetHandle)
    if (into.some((e) => e.source === c.source && e.source_port === c.sourceHandle)) return 'Already connected'
    if (into.length && !inp.multiple) return `Input “${inp.name}” already has a connection (it takes one)`
    return null
  }, [specOf, graphRef])
  const lastRefusal = useRef<string | null>(null)
  const isValidConnection = useCallback((c: Connection | Edge) => {
    const r = refuseReason({ source: c.source, sourceHandle: c.sourceHandle ?? null, target: c.target, targetHandle: c.targetHandle ?? null })
    lastRefusal.current = r
    return r === null
  }, [refuseReason])
  const onConnectEnd = useCallback((_e: unknown, state: { toHandle: unknown; isValid: boolean | null }) => {
    if (state.toHandle && !state.isValid && lastRefusal.current) setToast(lastRefusal.current)
  }, [setToast])
  const onConnect = useCallback((c: Connection) => {
    if (readOnly || !o || !c.sourceHandle || !c.targetHandle) return
    if (refuseReason(c)) return
    o.connect({ source: c.source, source_port: c.sourceHandle, target: c.target, target_port: c.targetHandle })
  }, [o, readOnly, refuseReason])
  return { refuseReason, isValidConnection, onConnectEnd, onConnect }
}
