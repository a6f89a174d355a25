// The graph as React Flow draws it: notes and nodes (position while dragged locally or by a co-editor, size,
// validation problems, run state, co-editors' selections) and edges (run animation, problems). Unchanged
// items keep their objects (useStableItems), so React Flow and the memo'd node components skip them.
import { useMemo } from 'react'
import type { Edge, Node, ReactFlowInstance } from '@xyflow/react'
import type { Graph, GraphNode, NodeType, Position } from '../api/types'
import type { FlowNodeT } from './FlowNode'
import type { NoteNodeT } from './NoteNode'
import type { useRunState } from './useRunState'
import type { useValidation } from './useValidation'
import { NOTE } from './context'
import { firstDraw } from './geometry'
import { ERROR_PORT, outputsOf, visibleOutputs } from './ports'
import { useStableItems } from './useStableItems'

interface Args {
  graph: Graph
  specOf: (n: GraphNode | undefined) => NodeType | undefined
  localDrag: Record<string, Position> | null | undefined
  remoteDrag: Record<string, Position>
  noteSize: Record<string, { width: number; height: number }>
  selected: Set<string>
  selectedEdges: Set<string>
  validation: ReturnType<typeof useValidation>
  runs: ReturnType<typeof useRunState>
  remoteSel: Record<string, { name: string; color: string }[]>
  draggedBy: Record<string, string>
  rf: ReactFlowInstance
}

export function useFlowElements({ graph, specOf, localDrag, remoteDrag, noteSize, selected, selectedEdges, validation, runs, remoteSel, draggedBy, rf }: Args) {
  const problemsOf = validation.byNode
  const allNodes = useMemo<Node[]>(() => {
    const pos = (id: string, p: Position) => localDrag?.[id] ?? remoteDrag[id] ?? p
    const notes: NoteNodeT[] = (graph.notes ?? []).map((s) => ({
      id: NOTE + s.id, type: 'note', position: pos(NOTE + s.id, s.position), zIndex: -1,
      width: noteSize[NOTE + s.id]?.width ?? s.width, height: noteSize[NOTE + s.id]?.height ?? s.height,
      selected: selected.has(NOTE + s.id), data: { note: s },
    }))
    const nodes: FlowNodeT[] = graph.nodes.map((n) => {
      const spec = specOf(n)
      const probs = problemsOf[n.id] ?? []
      const measured = rf.getInternalNode(n.id)?.measured
      const outputs = visibleOutputs(n, outputsOf(n, spec), graph.edges)
      return {
        id: n.id, type: 'flow', position: pos(n.id, n.position), selected: selected.has(n.id),
        // As React Flow measured it, or the size and handles it will measure (geometry.ts); neither is part of
        // useStableItems' comparison.
        ...(measured?.width ? { measured } : firstDraw(n.id, spec?.inputs ?? [], outputs)),
        data: {
          label: n.label ?? '', type: n.type, title: spec?.title ?? n.type, icon: spec?.icon ?? 'box', category: spec?.category ?? '',
          known: !!spec, inputs: spec?.inputs ?? [], outputs,
          errors: probs.filter((p) => p.severity === 'error').map((p) => p.message),
          warnings: probs.filter((p) => p.severity !== 'error').map((p) => p.message),
          pinned: !!n.pin, run: runs.states[n.id] ?? null, remote: remoteSel[n.id] ?? [], draggedBy: draggedBy[n.id] ?? null,
          portLabels: Array.isArray(n.config.cases)
            ? Object.fromEntries((n.config.cases as { label?: string }[]).map((c, i) => [`case_${i + 1}`, c?.label ?? '']).filter(([, l]) => l))
            : {},
        },
      }
    })
    return [...notes, ...nodes]
  }, [graph, localDrag, remoteDrag, noteSize, selected, specOf, problemsOf, runs.states, remoteSel, draggedBy])
  const rfNodes = useStableItems(allNodes)

  const edgeProblems = useMemo(() => new Set((validation.result?.problems ?? []).map((p) => p.edge_id).filter(Boolean)), [validation.result])
  const allEdges = useMemo<Edge[]>(() => graph.edges.map((e) => {
    const st = runs.states[e.source]?.status
    return {
      id: e.id, source: e.source, sourceHandle: e.source_port, target: e.target, targetHandle: e.target_port,
      selected: selectedEdges.has(e.id), animated: st === 'running',
      className: `${edgeProblems.has(e.id) ? 'edge-error' : ''} ${st === 'succeeded' ? 'edge-done' : ''}${e.source_port === ERROR_PORT ? ' edge-on-error' : ''}`,
    }
  }), [graph.edges, selectedEdges, edgeProblems, runs.states])
  const rfEdges = useStableItems(allEdges)
  return { allNodes, rfNodes, rfEdges, problemsOf }
}
