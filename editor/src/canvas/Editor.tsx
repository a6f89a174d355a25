// The canvas: React Flow drawing the shared Y.Doc, with presence, validation, runs and panels around it.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import {
  Background, BackgroundVariant, Controls, MiniMap, ReactFlow, useReactFlow,
  type Node,
} from '@xyflow/react'
import { api, ApiError } from '../api/client'
import type { Graph, GraphNode, Me, NodeType, Position, SideEffectChoice, SideEffectQuestion, VersionSummary, Workflow } from '../api/types'
import { graphToDoc, LOCAL_ORIGIN, withDefaults } from '../collab/convert'
import { ops as makeOps } from '../collab/ops'
import type { Collab } from '../collab/useCollabGraph'
import { colorFor, usePresence } from '../collab/usePresence'
import { useUndo } from '../collab/useUndo'
import { CanvasContext, NOTE, type CanvasCtx } from './context'
import type { Panel } from './TopBar'
import { FlowNode } from './FlowNode'
import { NoteNode } from './NoteNode'
import { Palette } from './Palette'
import { SidePanel } from './SidePanel'
import { SideEffectsDialog } from '../panel/SideEffectsDialog'
import { ApprovalPanel, RunControls } from './RunControls'
import { RunDialog } from './RunDialog'
import { RunHistory } from './RunHistory'
import { VersionsPanel } from './VersionsPanel'
import { HelpPanel } from './HelpPanel'
import { ConnectionHint, RemoteCursors } from './Presence'
import { TopBar, type CollabBadge } from './TopBar'
import { TriggersPanel } from '../triggers/TriggersPanel'
import { useRunState } from './useRunState'
import { useRunFromPath } from './useRunFromPath'
import { ConnectDialog } from './ConnectDialog'
import { useCanvasActions } from './useCanvasActions'
import { useConnections } from './useConnections'
import { useFlowElements } from './useFlowElements'
import { useSharedSelection } from './useSharedSelection'
import { useShortcuts } from './useShortcuts'
import { useValidation } from './useValidation'
import { useFlowChanges } from './useFlowChanges'
import { useStableCallback } from './useStableCallback'
import { makeThrottle } from './throttle'
import type { Move } from '../credentials/moveIntoCredential'
import { SecretFindingsDialog } from '../credentials/SecretFindingsDialog'
import { useSecretFindings } from '../credentials/useSecretFindings'
import { FIT_MAX_ZOOM, FIT_PADDING, MIN_ZOOM, openingViewport } from './geometry'

const nodeTypes = { flow: FlowNode, note: NoteNode }
// React Flow copies each changed prop into its store, and every store write runs every node's and edge's
// selectors: props must keep their identity across renders (constants here, callbacks memoised below).
const FIT_VIEW_OPTIONS = { padding: FIT_PADDING, maxZoom: FIT_MAX_ZOOM }
const DEFAULT_EDGE_OPTIONS = { type: 'default' }
const PRO_OPTIONS = { hideAttribution: true }
const MULTI_SELECT_KEYS = ['Meta', 'Control', 'Shift']
const miniMapColor = (n: Node) => (n.type === 'note' ? '#fde68a' : '#6366f1')
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
  useRunFromPath(runs.show)
  const rf = useReactFlow()

  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [selectedEdges, setSelectedEdges] = useState<Set<string>>(new Set())
  const [panel, setPanel] = useState<Panel>(null)
  const [help, setHelp] = useState(false)
  const [connecting, setConnecting] = useState<string | null>(null)   // the node ConnectDialog connects from
  const [runOpen, setRunOpen] = useState(false)
  const [runBusy, setRunBusy] = useState(false)
  const [runError, setRunError] = useState<string | null>(null)
  const [versions, setVersions] = useState<VersionSummary[]>([])
  const [toast, setToast] = useState<string | null>(null)
  // A 409's question about side effects (a test run or a re-run), and how to go on once answered.
  const [ask, setAsk] = useState<{ questions: SideEffectQuestion[]; go: (choices: Record<string, SideEffectChoice>) => void } | null>(null)
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

  const { refuseReason, isValidConnection, onConnectEnd, onConnect } = useConnections({ graphRef, specOf, ops: o, readOnly, setToast })
  const onNodeClick = useCallback((_e: unknown, n: Node) => { if (!n.id.startsWith(NOTE)) setPanel(null) }, [])

  const { remoteSel, draggedBy } = useSharedSelection(presence, selected, runs, lastRunAt)
  const changes = useFlowChanges({ ops: readOnly ? null : o, undo, updatePresence: presence.update, selected, setSelected, selectedEdges, setSelectedEdges })
  const { localDrag, noteSize } = changes

  const { allNodes, rfNodes, rfEdges, problemsOf } = useFlowElements({
    graph, specOf, localDrag, remoteDrag: presence.remoteDrag, noteSize, selected, selectedEdges, validation, runs, remoteSel, draggedBy, rf,
  })
  // The canvas's size, read before React Flow's first draw, so it opens at the fitted zoom (geometry.ts).
  const [box, setBox] = useState<Size | null>(null)
  useLayoutEffect(() => { const el = wrapper.current; if (el) setBox({ width: el.clientWidth, height: el.clientHeight }) }, [])
  const opening = useMemo(() => (box ? openingViewport(allNodes, box) : undefined), [box]) // eslint-disable-line react-hooks/exhaustive-deps

  const select = useCallback((nodes: Set<string>, edges?: Set<string>) => { setSelected(nodes); if (edges) setSelectedEdges(edges) }, [])
  const secrets = useSecretFindings(workflow.id)
  const { addNode, addNote, onDrop, removeSelection, fragment, paste, layout, fit } = useCanvasActions({
    graph, ops: o, readOnly, undo, rf, wrapper, mouse, specs, selected, selectedEdges, select,
    closePanel: () => setPanel(null), toast: setToast, onPasted: secrets.check,
  })
  // A literal secret moved into a credential: the node points at it and the literal goes, one undo step.
  const moveToCredential = (nodeId: string, credentialId: string, move: Move) => {
    undo.manager?.stopCapturing()
    o?.setConfigField(nodeId, 'credential', credentialId)
    o?.setConfigPath(nodeId, move.path, move.value)
    undo.manager?.stopCapturing()
  }
  const startRun = async (input: Record<string, unknown>, version: number | null) => {
    setRunBusy(true); setRunError(null)
    try {
      // Run what is on screen: the collab server writes the draft within about a second of the
      // last change, so wait until the document has been quiet that long (no REST save that could
      // clobber a co-editor's edit still on its way).
      const quiet = Date.now() - lastChange.current
      if (!version && synced && quiet < SAVE_SETTLE_MS) await new Promise((r) => setTimeout(r, SAVE_SETTLE_MS - quiet))
      const r = await api.startRun(workflow.id, input, version ?? undefined)
      showStarted(r.id)
      setRunOpen(false)
    } catch (e) { setRunError((e as Error).message) } finally { setRunBusy(false) }
  }
  const showStarted = (id: string) => {
    lastRunAt.current = Date.now()
    runs.show(id)
    presence.update({ run: { id, at: lastRunAt.current } })
  }
  /** Asked first when the API answers 409 with `side_effects`; otherwise the refusal is a toast. */
  const orAsk = (e: unknown, go: (choices: Record<string, SideEffectChoice>) => void) => {
    const questions = e instanceof ApiError && e.status === 409 ? e.body?.side_effects : null
    if (Array.isArray(questions) && questions.length) setAsk({ questions, go })
    else setToast((e as Error).message)
  }
  const testRun = async (nodeId: string, mode: 'node' | 'to_here', choices?: Record<string, SideEffectChoice>) => {
    const quiet = Date.now() - lastChange.current
    if (synced && quiet < SAVE_SETTLE_MS) await new Promise((r) => setTimeout(r, SAVE_SETTLE_MS - quiet))
    api.testRun(workflow.id, { node_id: nodeId, mode, side_effects: choices }).then((r) => showStarted(r.id))
      .catch((e) => orAsk(e, (c) => testRun(nodeId, mode, { ...choices, ...c })))
  }
  const rerunFrom = (runId: string, nodeId: string, repeat: string[] = []) =>
    api.rerunFrom(runId, nodeId, repeat).then((r) => showStarted(r.id))
      .catch((e) => orAsk(e, (c) => rerunFrom(runId, nodeId, [...repeat, ...Object.entries(c).filter(([, v]) => v === 'run').map(([k]) => k)])))
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
    connect: () => { if (!readOnly && selected.size === 1) setConnecting([...selected][0]) },
  }, !connecting)

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
          {panel === 'triggers' && (
            <TriggersPanel workflowId={workflow.id} provider={collab?.provider} canEdit={me.role !== 'viewer'} onClose={() => setPanel(null)} />
          )}
          {!panel && onlyNode && (
            <SidePanel key={`${onlyNode.id}:${runs.run?.id ?? ''}:${runDetail ? 1 : 0}`} node={onlyNode} spec={specOf(onlyNode)} ops={o} readOnly={readOnly}
              workflowId={workflow.id} graph={graph} specOf={specOf} refreshKey={`${runs.run?.id ?? ''}:${runs.run?.status ?? ''}`}
              problems={problemsOf[onlyNode.id] ?? []} fieldErrors={validation.fields[onlyNode.id] ?? {}}
              nodeRuns={runDetail ? runDetail.nodes.filter((r) => r.node_id === onlyNode.id) : null}
              onRunFromHere={runDetail && !readOnly && ['succeeded', 'failed', 'cancelled'].includes(runDetail.status)
                ? () => rerunFrom(runDetail.id, onlyNode.id) : undefined}
              onTestRun={(mode) => testRun(onlyNode.id, mode)}
              onRenamed={(id) => setSelected(new Set([id]))}
              onClose={() => setSelected(new Set())} />
          )}
        </div>
        {help && <HelpPanel onClose={() => setHelp(false)} />}
        {connecting && graph.nodes.some((n) => n.id === connecting) && (
          <ConnectDialog source={graph.nodes.find((n) => n.id === connecting)!} nodes={graph.nodes} specOf={specOf}
            refuseReason={refuseReason} onConnect={onConnect} onClose={() => setConnecting(null)} />
        )}
        {secrets.findings.length > 0 && (
          <SecretFindingsDialog findings={secrets.findings} readOnly={readOnly} onClose={secrets.close} apply={moveToCredential}
            nodeOf={(id) => graph.nodes.find((n) => n.id === id)} valueAt={(id, path) => o?.configAt(id, path)} />
        )}
        {ask && <SideEffectsDialog questions={ask.questions} onCancel={() => setAsk(null)}
          onConfirm={(c) => { const go = ask.go; setAsk(null); go(c) }} />}
        {runOpen && <RunDialog trigger={trigger} versions={versions} busy={runBusy} error={runError}
          onRun={startRun} onClose={() => setRunOpen(false)} />}
      </div>
    </CanvasContext.Provider>
  )
}
