// Paints one run on the canvas: live events from /api/runs/{id}/events, then the recorded node runs.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { api, wsUrl } from '../api/client'
import type { NodeStatus, Run, RunEvent, RunStatus } from '../api/types'
import type { RunBadge } from './FlowNode'
import { reportSocketClose } from '../teams/signedOut'

// waiting / paused end a pass of the run: its stream closes; resuming it is a new pass (show() again)
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'waiting', 'paused'])
const ms = (a?: string | null, b?: string | null) => (a && b ? Math.max(0, Date.parse(b) - Date.parse(a)) : null)

export interface ShownRun { id: string; status: RunStatus | 'connecting'; detail: Run | null }

export function useRunState(nodeIds: string[]) {
  const [run, setRun] = useState<ShownRun | null>(null)
  const [states, setStates] = useState<Record<string, RunBadge>>({})
  const ws = useRef<WebSocket | null>(null)
  const idsRef = useRef(nodeIds)
  idsRef.current = nodeIds

  const loadDetail = useCallback(async (id: string) => {
    const detail = await api.getRun(id)
    const next: Record<string, RunBadge> = {}
    for (const nr of detail.nodes) {
      const prev = next[nr.node_id]
      next[nr.node_id] = { status: nr.status, attempts: Math.max(nr.attempts, prev?.attempts ?? 0),
        ms: ms(nr.started_at, nr.finished_at), iterations: (prev?.iterations ?? 0) + 1 }
    }
    setStates(next)
    setRun((r) => (r && r.id === id ? { ...r, status: detail.status, detail } : r))
  }, [])

  const show = useCallback((id: string, live = true) => {
    ws.current?.close()
    setRun({ id, status: 'connecting', detail: null })
    setStates(live ? Object.fromEntries(idsRef.current.map((n) => [n, { status: 'queued' as NodeStatus, attempts: 0, ms: null, iterations: 0 }])) : {})
    const started: Record<string, string> = {}
    const sock = new WebSocket(wsUrl(`/api/runs/${id}/events`))
    ws.current = sock
    sock.onmessage = (m) => {
      const ev = JSON.parse(m.data) as RunEvent
      if (ev.kind.startsWith('run.')) {
        setRun((r) => (r && r.id === id ? { ...r, status: ev.status as RunStatus } : r))
        if (TERMINAL.has(ev.status)) loadDetail(id).catch(() => {})
        return
      }
      const nid = ev.node_id
      if (!nid) return
      if (ev.kind === 'node.started') started[nid] = ev.at
      setStates((s) => {
        const prev = s[nid] ?? { status: 'queued', attempts: 0, ms: null, iterations: 0 }
        const status = (ev.kind === 'node.retrying' ? 'running' : ev.status) as NodeStatus
        return { ...s, [nid]: {
          status,
          attempts: ev.kind === 'node.started' ? Math.max(prev.attempts, 1) : ev.kind === 'node.retrying' ? (ev.attempt ?? prev.attempts) + 1 : Math.max(prev.attempts, ev.attempt ?? 0),
          ms: status === 'running' ? null : ms(started[nid], ev.at),
          iterations: prev.iterations + (ev.kind === 'node.started' ? 1 : 0),
        } }
      })
    }
    sock.onclose = (e) => {
      reportSocketClose(e) // 4401: the whole page is signed out (teams/SignedOutOverlay)
      if (ws.current === sock) loadDetail(id).catch(() => {})
    }
  }, [loadDetail])

  const clear = useCallback(() => { ws.current?.close(); ws.current = null; setRun(null); setStates({}) }, [])
  useEffect(() => () => ws.current?.close(), [])

  // Nodes still "queued" when the run is over never ran: show nothing on them.
  // (Memoised: a new object on every render would rebuild every node of the canvas.)
  const finished = !!run && TERMINAL.has(run.status)
  const shown = useMemo(() => (finished ? Object.fromEntries(Object.entries(states).filter(([, b]) => b.status !== 'queued')) : states), [finished, states])
  return { run, states: shown, show, clear }
}
