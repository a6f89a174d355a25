// The canvas: React Flow drawing the shared Y.Doc, with presence, validation, runs and panels around it.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent } from 'react'
import {
  Background, BackgroundVariant, Controls, MiniMap, ReactFlow, useReactFlow,
  type Connection, type Edge, type Node,
} from '@xyflow/react'
import { api } from '../api/client'
import type { Graph, GraphNode, Me, NodeType, Position, VersionSummary, Workflow } from '../api/types'
import { graphToDoc, LOCAL_ORIGIN, withDefaults } from '../collab/convert'
import { ops as makeOps } from '../collab/ops'
import type { Collab } from '../collab/useCollabGraph'
import { colorFor, usePresence } from '../collab/usePresence'
import { useUndo } from '../collab/useUndo'
import { CanvasContext, type CanvasCtx } from './context'
import type { Panel } from './TopBar'
import { FlowNode, type FlowNodeT } from './FlowNode'
import { NoteNode, type NoteNodeT } from './NoteNode'
import { Palette, DRAG_MIME } from './Palette'
import { SidePanel } from './SidePanel'
import { ApprovalPanel, RunControls } from './RunControls'
import { RunDialog } from './RunDialog'
import { RunHistory } from './RunHistory'
import { VersionsPanel } from './VersionsPanel'
import { HelpPanel } from './HelpPanel'
import { ConnectionHint, RemoteCursors } from './Presence'
import { TopBar, type CollabBadge } from './TopBar'
import { useRunState } from './useRunState'
import { useShortcuts } from './useShortcuts'
import { useValidation } from './useValidation'
import { useFlowChanges } from './useFlowChanges'
import { useStableItems } from './useStableItems'
import { useStableCallback } from './useStableCallback'
import { makeThrottle } from './throttle'
import { firstDraw, FIT_MAX_ZOOM, FIT_PADDING, MIN_ZOOM, openingViewport } from './geometry'

const nodeTypes = { flow: FlowNode, note: NoteNode }
// React Flow copies each changed prop into its store, and every store write runs every node's and edge's
// selectors: props must keep their identity across renders (constants here, callbacks memoised below).
const FIT_VIEW_OPTIONS = { padding: FIT_PADDING, maxZoom: FIT_MAX_ZOOM }
const DEFAULT_EDGE_OPTIONS = { type: 'default' }
const PRO_OPTIONS = { hideAttribution: true }
const MULTI_SELECT_KEYS = ['Meta', 'Control', 'Shift']
const miniMapColor = (n: Node) => (n.type === 'note' ? '#fde68a' : '#6366f1')
const NOTE = 'note:'
/** The collab server persists accepted updates within about a second (backend/collab/rooms.py). */
const SAVE_SETTLE_MS = 1500
type Size = { width: number; height: number }

export function Editor({ workflow, collab, catalogue, me }: { workflow: Workflow; collab: Collab | null; catalogue: NodeType[]; me: Me }) {
  const doc = collab?.doc
  const synced = !!collab?.synced
  const readOnly = !synced || me.role === 'viewer'
  // Nodes can be grabbed and ports dragged from while live editing is on its way too (a drag before the sync
  // changes nothing: the handlers see readOnly), so going live does not redraw every node and port.
  const handsOn = me.role !== 'viewer' && collab?.status !== 'refused'
  const graph: Graph = useMemo(() => withDefaults(collab?.graph ?? workflow.graph), [collab?.graph, workflow.graph])
  const o = useMemo(() => (doc ? makeOps(doc) : null), [doc])
  const undo = useUndo(doc)
  const user = useMemo(() => ({ id: me.user_id, name: me.name || me.email.split('@')[0], color: colorFor(me.user_id) }), [me])
  const presence = usePresence(collab?.provider, user)
  const validation = useValidation(synced || graph.nodes.length ? graph : null)
  const runs = useRunState(graph.nodes.map((n) => n.id))
  const rf = useReactFlow()

  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [selectedEdges, setSelectedEdges] = useState<Set<string>>(new Set())
  const [panel, setPanel] = useState<Panel>(null)
  const [help, setHelp] = useState(false)
  const [runOpen, setRunOpen] = useState(false)
  const [runBusy, setRunBusy] = useState(false)
  const [runError, setRunError] = useState<string | null>(null)
  const [versions, setVersions] = useState<VersionSummary[]>([])
  const [toast, setToast] = useState<string | null>(null)
  const [name, setName] = useState(workflow.name)
  const wrapper = useRef<HTMLDivElement>(null)
  const mouse = useRef<Position | null>(null)
  const cursorThrottle = useRef(makeThrottle(40)).current
  const lastRunAt = useRef(Date.now() - 10 * 60_000)

  const graphRef = useRef(graph)
  graphRef.current = graph
  const lastChange = useRef(0)
  // A co-editor's rename arrives as meta.name: follow it (but not the first value seen).
  const seenName = useRef<string | null>(null)
  useEffect(() => {
    if (!synced) return
    if (seenName.current !== null && seenName.current !== graph.name) setName(graph.name)
    seenName.current = graph.name
  }, [graph.name, synced])
  useEffect(() => { lastChange.current = Date.now() }, [graph])
  const specs = useMemo(() => new Map(catalogue.map((t) => [`${t.type}@${t.version}`, t])), [catalogue])
  const specOf = useCallback((n: GraphNode | undefined) => (n ? specs.get(`${n.type}@${n.type_version}`) : undefined), [specs])

  useEffect(() => { if (toast) { const t = setTimeout(() => setToast(null), 3500); return () => clearTimeout(t) } }, [toast])
  useEffect(() => { api.listVersions(workflow.id).then(setVersions).catch(() => {}) }, [workflow.id])
  // A run still going when the canvas opens (started by anyone, or through the API) is painted too.
  useEffect(() => {
    api.listRuns(workflow.id).then((list) => {
      const live = list.find((r) => r.status === 'running' || r.status === 'queued')
      if (live) runs.show(live.id)
    }).catch(() => {})
  }, [workflow.id]) // eslint-disable-line react-hooks/exhaustive-deps

  // --- connections: refuse mismatched port types with a reason -------------------------------
  const refuseReason = useCallback<CanvasCtx['refuseReason']>((c) => {
    if (!c.source || !c.target) return null
    if (c.source === c.target) return 'A node cannot connect to itself'
    const g = graphRef.current
    const src = g.nodes.find((n) => n.id === c.source), tgt = g.nodes.find((n) => n.id === c.target)
    const out = specOf(src)?.outputs.find((p) => p.name === c.sourceHandle)
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
  }, [specOf])
  const lastRefusal = useRef<string | null>(null)
  const isValidConnection = useCallback((c: Connection | Edge) => {
    const r = refuseReason({ source: c.source, sourceHandle: c.sourceHandle ?? null, target: c.target, targetHandle: c.targetHandle ?? null })
    lastRefusal.current = r
    return r === null
  }, [refuseReason])
  const onConnectEnd = useCallback((_e: unknown, state: { toHandle: unknown; isValid: boolean | null }) => {
    if (state.toHandle && !state.isValid && lastRefusal.current) setToast(lastRefusal.current)
  }, [])
  const onNodeClick = useCallback((_e: unknown, n: Node) => { if (!n.id.startsWith(NOTE)) setPanel(null) }, [])
  const onConnect = useCallback((c: Connection) => {
    if (readOnly || !o || !c.sourceHandle || !c.targetHandle) return
    if (refuseReason(c)) return
    o.connect({ source: c.source, source_port: c.sourceHandle, target: c.target, target_port: c.targetHandle })
  }, [o, readOnly, refuseReason])

  // --- presence ---------------------------------------------------------------------------------
  useEffect(() => { presence.update({ selection: [...selected].filter((id) => !id.startsWith(NOTE)) }) }, [selected, presence.update])
  // Keyed by content, so peers' cursor moves do not redraw every node.
  const selKey = JSON.stringify(presence.peers.map((p) => [p.user.name, p.user.color, p.selection ?? [], Object.keys(p.dragging ?? {})]))
  const { remoteSel, draggedBy } = useMemo(() => {
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
  }, [presence.peers, runs])

  const changes = useFlowChanges({ ops: readOnly ? null : o, undo, updatePresence: presence.update, selected, setSelected, selectedEdges, setSelectedEdges })
  const { localDrag, noteSize } = changes

  // --- React Flow nodes and edges from the graph ----------------------------------------------
  const problemsOf = validation.byNode
  const allNodes = useMemo<Node[]>(() => {
    const pos = (id: string, p: Position) => localDrag?.[id] ?? presence.remoteDrag[id] ?? p
    const notes: NoteNodeT[] = (graph.notes ?? []).map((s) => ({
      id: NOTE + s.id, type: 'note', position: pos(NOTE + s.id, s.position), zIndex: -1,
      width: noteSize[NOTE + s.id]?.width ?? s.width, height: noteSize[NOTE + s.id]?.height ?? s.height,
      selected: selected.has(NOTE + s.id), data: { note: s },
    }))
    const nodes: FlowNodeT[] = graph.nodes.map((n) => {
      const spec = specOf(n)
      const probs = problemsOf[n.id] ?? []
      const measured = rf.getInternalNode(n.id)?.measured
      return {
        id: n.id, type: 'flow', position: pos(n.id, n.position), selected: selected.has(n.id),
        // As React Flow measured it, or the size and handles it will measure (geometry.ts); neither is part of
        // useStableItems' comparison.
        ...(measured?.width ? { measured } : firstDraw(n.id, spec?.inputs ?? [], spec?.outputs ?? [])),
        data: {
          label: n.label ?? '', type: n.type, title: spec?.title ?? n.type, icon: spec?.icon ?? 'box', category: spec?.category ?? '',
          known: !!spec, inputs: spec?.inputs ?? [], outputs: spec?.outputs ?? [],
          errors: probs.filter((p) => p.severity === 'error').map((p) => p.message),
          warnings: probs.filter((p) => p.severity !== 'error').map((p) => p.message),
          run: runs.states[n.id] ?? null, remote: remoteSel[n.id] ?? [], draggedBy: draggedBy[n.id] ?? null,
          portLabels: Array.isArray(n.config.cases)
            ? Object.fromEntries((n.config.cases as { label?: string }[]).map((c, i) => [`case_${i + 1}`, c?.label ?? '']).filter(([, l]) => l))
            : {},
        },
      }
    })
    return [...notes, ...nodes]
  }, [graph, localDrag, presence.remoteDrag, noteSize, selected, specOf, problemsOf, runs.states, remoteSel, draggedBy])
  // Unchanged nodes keep their objects, so React Flow and the memo'd node components skip them.
  const rfNodes = useStableItems(allNodes)
  // The canvas's size, read before React Flow's first draw, so it opens at the fitted zoom (geometry.ts).
  const [box, setBox] = useState<Size | null>(null)
  useLayoutEffect(() => { const el = wrapper.current; if (el) setBox({ width: el.clientWidth, height: el.clientHeight }) }, [])
  const opening = useMemo(() => (box ? openingViewport(allNodes, box) : undefined), [box]) // eslint-disable-line react-hooks/exhaustive-deps

  const edgeProblems = useMemo(() => new Set((validation.result?.problems ?? []).map((p) => p.edge_id).filter(Boolean)), [validation.result])
  const allEdges = useMemo<Edge[]>(() => graph.edges.map((e) => {
    const st = runs.states[e.source]?.status
    return {
      id: e.id, source: e.source, sourceHandle: e.source_port, target: e.target, targetHandle: e.target_port,
      selected: selectedEdges.has(e.id), animated: st === 'running',
      className: `${edgeProblems.has(e.id) ? 'edge-error' : ''} ${st === 'succeeded' ? 'edge-done' : ''}`,
    }
  }), [graph.edges, selectedEdges, edgeProblems, runs.states])
  const rfEdges = useStableItems(allEdges)

  // --- actions -----------------------------------------------------------------------------------
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
    setSelected(new Set([id])); setSelectedEdges(new Set()); setPanel(null)
  }
  const addNote = () => {
    if (readOnly || !o) return
    const at = mouse.current
    let p = at ? { x: at.x - 110, y: at.y - 70 } : { x: center().x - 110, y: center().y - 220 }
    const taken = (q: Position) => graph.nodes.some((n) => q.x < n.position.x + 210 && n.position.x < q.x + 230 && q.y < n.position.y + 100 && n.position.y < q.y + 150)
    for (let i = 0; !at && i < 20 && taken(p); i++) p = { x: p.x, y: p.y - 120 }
    undo.manager?.stopCapturing()
    const id = o.addNote(p)
    setSelected(new Set([NOTE + id]))
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
    setSelected(new Set()); setSelectedEdges(new Set())
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
    setSelected(new Set([...made.nodes, ...made.notes.map((n) => NOTE + n)]))
    setToast(`Pasted ${made.nodes.length} node${made.nodes.length === 1 ? '' : 's'}`)
  }
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
    setTimeout(() => rf.fitView({ padding: 0.2, duration: 300, maxZoom: 1 }), 80)
  }
  const fit = () => rf.fitView({ padding: 0.2, duration: 300, maxZoom: 1 })
  const startRun = async (input: Record<string, unknown>, version: number | null) => {
    setRunBusy(true); setRunError(null)
    try {
      // Run what is on screen: the collab server writes the draft within about a second of the
      // last change, so wait until the document has been quiet that long (no REST save that could
      // clobber a co-editor's edit still on its way).
      const quiet = Date.now() - lastChange.current
      if (!version && synced && quiet < SAVE_SETTLE_MS) await new Promise((r) => setTimeout(r, SAVE_SETTLE_MS - quiet))
      const r = await api.startRun(workflow.id, input, version ?? undefined)
      lastRunAt.current = Date.now()
      runs.show(r.id)
      presence.update({ run: { id: r.id, at: lastRunAt.current } })
      setRunOpen(false)
    } catch (e) { setRunError((e as Error).message) } finally { setRunBusy(false) }
  }
  const restored = (g: Graph) => {
    if (!doc) return
    undo.manager?.stopCapturing()
    graphToDoc(g, doc, LOCAL_ORIGIN)
    undo.manager?.stopCapturing()
  }
  const rename = (n: string) => {
    const v = n.trim()
    if (!v || v === workflow.name || readOnly) return
    api.updateWorkflow(workflow.id, { name: v }).then(() => o?.setName(v)).catch((e) => setToast(e.message))
  }

  const paletteAdd = useStableCallback((t: NodeType) => addNode(t))
  const paletteAddNote = useStableCallback(() => addNote())

  useShortcuts({
    undo: () => undo.undo(), redo: () => undo.redo(), remove: removeSelection,
    selectAll: () => setSelected(new Set(rfNodes.map((n) => n.id))),
    duplicate: () => { const f = fragment(); if (f) { mouse.current = null; paste(JSON.stringify(f)) } },
    layout, fit, note: addNote, run: () => !readOnly && setRunOpen(true), help: () => setHelp((h) => !h),
    escape: () => { if (help || runOpen) { setHelp(false); setRunOpen(false) } else if (panel) setPanel(null); else { setSelected(new Set()); setSelectedEdges(new Set()) } },
    copy: () => { const f = fragment(); return f ? JSON.stringify(f) : null },
    cut: removeSelection, paste,
  }, true)

  const onlyNode = selected.size === 1 ? graph.nodes.find((n) => selected.has(n.id)) : undefined
  const ctx = useMemo<CanvasCtx>(() => ({ ops: o, readOnly, catalogue: specs, refuseReason }), [o, readOnly, specs, refuseReason])
  const trigger = graph.nodes.find((n) => n.type === 'trigger.manual') ?? graph.nodes.find((n) => specOf(n)?.trigger)
  const status: CollabBadge = collab?.status === 'refused' ? 'refused' : synced ? (collab?.status === 'connected' ? 'live' : 'reconnecting') : 'connecting'
  const runDetail = runs.run?.detail

  return (
    <CanvasContext.Provider value={ctx}>
      <div className="editor" data-testid="editor" data-collab={status}>
        <TopBar name={name} setName={setName} onRename={rename} readOnly={readOnly} status={status} refusal={collab?.refusal ?? null}
          validation={validation.result} peers={presence.peers} me={user} undo={undo} panel={panel} setPanel={setPanel}
          latestVersion={versions[0]?.version ?? workflow.published_version}
          actions={{ layout, fit, addNote, help: () => setHelp(true), run: () => setRunOpen(true) }} />
        {runs.run && (
          <div className={`run-bar state-${runs.run.status}`} data-testid="run-bar" data-status={runs.run.status} data-run-id={runs.run.id}>
            <span className="dot" /> Run <span className="mono">{runs.run.id.slice(0, 8)}</span>: <b data-testid="run-status">{runs.run.status}</b>
            {runDetail?.error != null && <span className="muted"> — {typeof runDetail.error === 'string' ? runDetail.error : (runDetail.error as any)?.message ?? JSON.stringify(runDetail.error)}</span>}
            <div className="grow" />
            <RunControls run={runs.run} readOnly={readOnly} show={runs.show} />
            {(runs.run.status === 'running' || runs.run.status === 'queued') && <button className="btn small" onClick={() => api.cancelRun(runs.run!.id).catch(() => {})}>Cancel</button>}
            <button className="btn small" onClick={runs.clear} data-testid="run-clear">Clear</button>
          </div>
        )}
        {runs.run && <ApprovalPanel detail={runDetail ?? null} readOnly={readOnly} show={runs.show} />}
        <div className="workspace">
          <Palette types={catalogue} disabled={readOnly} onAdd={paletteAdd} onAddNote={paletteAddNote} />
          <div className="canvas" ref={wrapper} data-testid="canvas"
            onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'move' }} onDrop={onDrop}
            onPointerMove={(e) => {
              const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY })
              mouse.current = p
              cursorThrottle(() => presence.update({ cursor: { x: Math.round(p.x), y: Math.round(p.y) } }))
            }}
            onPointerLeave={() => { mouse.current = null; cursorThrottle.cancel(); presence.update({ cursor: null }) }}>
            {!synced && (
              <div className="banner" data-testid="connecting-banner">
                {status === 'refused' ? `Live editing is not available (${collab?.refusal}). Showing the saved draft, read-only.` : 'Connecting to live editing… showing the saved draft, read-only.'}
              </div>
            )}
            {box && <ReactFlow
              nodes={rfNodes} edges={rfEdges} nodeTypes={nodeTypes}
              onNodesChange={changes.onNodesChange} onEdgesChange={changes.onEdgesChange} onConnect={onConnect}
              isValidConnection={isValidConnection}
              onConnectEnd={onConnectEnd}
              onNodeDragStart={changes.onNodeDragStart} onNodeDragStop={changes.onNodeDragStop}
              onNodeClick={onNodeClick}
              nodesConnectable={handsOn} nodesDraggable={handsOn} elementsSelectable
              deleteKeyCode={null} elevateNodesOnSelect={false} multiSelectionKeyCode={MULTI_SELECT_KEYS} selectionKeyCode="Shift"
              fitView fitViewOptions={FIT_VIEW_OPTIONS} defaultViewport={opening} minZoom={MIN_ZOOM} maxZoom={2.5}
              defaultEdgeOptions={DEFAULT_EDGE_OPTIONS} proOptions={PRO_OPTIONS}
            >
              <Background variant={BackgroundVariant.Dots} gap={18} size={1.2} color="#cbd5e1" />
              <MiniMap pannable zoomable nodeStrokeWidth={3} data-testid="minimap"
                nodeColor={miniMapColor} />
              <Controls showInteractive={false} />
              <RemoteCursors peers={presence.peers} />
              <ConnectionHint />
            </ReactFlow>}
            {toast && <div className="toast" data-testid="toast">{toast}</div>}
            {graph.nodes.length === 0 && synced && (
              <div className="empty-hint">Drag a node from the left — start with a <b>Manual trigger</b>.</div>
            )}
          </div>
          {panel === 'runs' && (
            <RunHistory workflowId={workflow.id} shownId={runs.run?.id ?? null} refreshKey={`${runs.run?.id}:${runs.run?.status}`}
              onOpen={(id) => runs.show(id, false)} onClose={() => setPanel(null)} />
          )}
          {panel === 'versions' && (
            <VersionsPanel workflowId={workflow.id} readOnly={readOnly} onVersions={setVersions} onClose={() => setPanel(null)}
              beforePublish={async () => { const q = Date.now() - lastChange.current; if (q < SAVE_SETTLE_MS) await new Promise((r) => setTimeout(r, SAVE_SETTLE_MS - q)) }}
              onRestored={restored} />
          )}
          {!panel && onlyNode && (
            <SidePanel key={`${onlyNode.id}:${runs.run?.id ?? ''}:${runDetail ? 1 : 0}`} node={onlyNode} spec={specOf(onlyNode)} ops={o} readOnly={readOnly}
              problems={problemsOf[onlyNode.id] ?? []} fieldErrors={validation.fields[onlyNode.id] ?? {}}
              nodeRuns={runDetail ? runDetail.nodes.filter((r) => r.node_id === onlyNode.id) : null}
              onRunFromHere={runDetail && !readOnly && ['succeeded', 'failed', 'cancelled'].includes(runDetail.status)
                ? () => api.rerunFrom(runDetail.id, onlyNode.id).then((r) => runs.show(r.id)).catch((e) => alert(e.message)) : undefined}
              onClose={() => setSelected(new Set())} />
          )}
        </div>
        {help && <HelpPanel onClose={() => setHelp(false)} />}
        {runOpen && <RunDialog trigger={trigger} versions={versions} busy={runBusy} error={runError}
          onRun={startRun} onClose={() => setRunOpen(false)} />}
      </div>
    </CanvasContext.Provider>
  )
}
