// What a person does to the graph from the palette, the shortcuts and the top bar: add a node or a note
// (where there is room), drop from the palette, remove, copy/duplicate/paste a fragment, auto-layout, fit.
// Each change is its own undo step.
import type { DragEvent, RefObject, MutableRefObject } from 'react'
import type { ReactFlowInstance } from '@xyflow/react'
import type { Graph, NodeType, Position } from '../api/types'
import type { Ops } from '../collab/ops'
import type { useUndo } from '../collab/useUndo'
import { NOTE } from './context'
import { DRAG_MIME } from './Palette'

type Size = { width: number; height: number }

interface Args {
  graph: Graph
  ops: Ops | null
  readOnly: boolean
  undo: ReturnType<typeof useUndo>
  rf: ReactFlowInstance
  wrapper: RefObject<HTMLDivElement | null>
  mouse: MutableRefObject<Position | null>
  specs: Map<string, NodeType>
  selected: Set<string>
  selectedEdges: Set<string>
  select: (nodes: Set<string>, edges?: Set<string>) => void
  closePanel: () => void
  toast: (message: string) => void
  /** The pasted nodes as they now are (new ids), for the secret scan. */
  onPasted?: (fragment: Graph) => void
}

export function useCanvasActions({ graph, ops: o, readOnly, undo, rf, wrapper, mouse, specs, selected, selectedEdges, select, closePanel, toast, onPasted }: Args) {
  const center = (): Position => {
    const r = wrapper.current?.getBoundingClientRect()
    return rf.screenToFlowPosition({ x: (r?.left ?? 0) + (r?.width ?? 800) / 2, y: (r?.top ?? 0) + (r?.height ?? 600) / 2 })
  }
  const addNode = (t: NodeType, at?: Position) => {
    if (readOnly || !o) return
    let pos = at ? { x: at.x - 100, y: at.y - 35 } : { x: center().x - 100, y: center().y - 35 }
    // Clicked (not dropped): do not cover a node that is already there.
    const taken = (q: Position) => graph.nodes.some((n) => Math.abs(n.position.x - q.x) < 200 && Math.abs(n.position.y - q.y) < 90)
    for (let i = 0; !at && i < 20 && taken(pos); i++) pos = { x: pos.x + (i % 4 === 3 ? -780 : 260), y: pos.y + (i % 4 === 3 ? 130 : 0) }
    undo.manager?.stopCapturing()
    const id = o.addNode(t.type, t.version, pos, t.title)
    select(new Set([id]), new Set()); closePanel()
  }
  const addNote = () => {
    if (readOnly || !o) return
    const at = mouse.current
    let p = at ? { x: at.x - 110, y: at.y - 70 } : { x: center().x - 110, y: center().y - 220 }
    const taken = (q: Position) => graph.nodes.some((n) => q.x < n.position.x + 210 && n.position.x < q.x + 230 && q.y < n.position.y + 100 && n.position.y < q.y + 150)
    for (let i = 0; !at && i < 20 && taken(p); i++) p = { x: p.x, y: p.y - 120 }
    undo.manager?.stopCapturing()
    const id = o.addNote(p)
    select(new Set([NOTE + id]))
  }
  const onDrop = (e: DragEvent) => {
    e.preventDefault()
    const raw = e.dataTransfer.getData(DRAG_MIME)
    if (!raw) return
    const { type, version } = JSON.parse(raw)
    const t = specs.get(`${type}@${version}`)
    if (t) addNode(t, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }))
  }
  const removeSelection = () => {
    if (readOnly || !o) return
    const ids = [...selected]
    undo.manager?.stopCapturing()
    o.remove(ids.filter((i) => !i.startsWith(NOTE)), [...selectedEdges], ids.filter((i) => i.startsWith(NOTE)).map((i) => i.slice(NOTE.length)))
    select(new Set(), new Set())
  }
  const fragment = () => {
    if (!o || !selected.size) return null
    const ids = [...selected]
    return o.fragment(ids.filter((i) => !i.startsWith(NOTE)), ids.filter((i) => i.startsWith(NOTE)).map((i) => i.slice(NOTE.length)))
  }
  const paste = (text: string) => {
    if (readOnly || !o) return
    let frag: Partial<Graph>
    try { frag = JSON.parse(text) } catch { return }
    if (!frag || !Array.isArray(frag.nodes)) return
    const all = [...frag.nodes.map((n) => n.position), ...(frag.notes ?? []).map((n) => n.position)].filter(Boolean)
    const minX = Math.min(...all.map((p) => p.x)), minY = Math.min(...all.map((p) => p.y))
    const at = mouse.current
    const offset = at && all.length ? { x: at.x - minX, y: at.y - minY } : { x: 40, y: 40 }
    undo.manager?.stopCapturing()
    const made = o.paste(frag, offset)
    select(new Set([...made.nodes, ...made.notes.map((n) => NOTE + n)]))
    toast(`Pasted ${made.nodes.length} node${made.nodes.length === 1 ? '' : 's'}`)
    if (made.nodes.length) onPasted?.(o.fragment(made.nodes, []))
  }
  const fit = () => rf.fitView({ padding: 0.2, duration: 300, maxZoom: 1 })
  const layout = async () => {
    if (readOnly || !o) return
    const { autoLayout } = await import('./layout') // dagre loads on first use, not with the canvas
    const sizes: Record<string, Size> = {}
    for (const n of rf.getNodes()) {
      const m = rf.getInternalNode(n.id)?.measured
      if (m?.width) sizes[n.id] = { width: m.width, height: m.height ?? 80 }
    }
    undo.manager?.stopCapturing()
    o.setPositions(autoLayout(graph, sizes))
    undo.manager?.stopCapturing()
    setTimeout(fit, 80)
  }
  return { addNode, addNote, onDrop, removeSelection, fragment, paste, layout, fit }
}
