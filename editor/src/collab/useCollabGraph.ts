// The draft as a Y.Doc synced over /api/collab/{id}; until the first sync the REST graph is shown read-only.
import { useEffect, useRef, useState } from 'react'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import type { Graph } from '../api/types'
import { wsUrl } from '../api/client'
import { docToGraph, graphToDoc, isEmptyDoc } from './convert'

export type CollabStatus = 'connecting' | 'connected' | 'disconnected' | 'refused'

export interface Collab {
  doc: Y.Doc
  provider: WebsocketProvider
  status: CollabStatus
  synced: boolean // true once the server's document has arrived: from then on the doc is the truth
  refusal: string | null
  graph: Graph | null
}

export function useCollabGraph(workflowId: string, restGraph: Graph | null): Collab | null {
  const [state, setState] = useState<Collab | null>(null)
  const restRef = useRef(restGraph)
  restRef.current = restGraph

  useEffect(() => {
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(wsUrl('/api/collab'), workflowId, doc, { disableBc: true, maxBackoffTime: 5000 })
    let synced = false
    let frame = 0
    const patch = (p: Partial<Collab>) => setState((s) => ({ ...(s ?? base), ...p }))
    const base: Collab = { doc, provider, status: 'connecting', synced: false, refusal: null, graph: null }
    setState(base)

    const refresh = () => {
      if (!synced || frame) return
      frame = requestAnimationFrame(() => { frame = 0; patch({ graph: docToGraph(doc) }) })
    }
    doc.on('update', refresh)
    provider.on('status', ({ status }: { status: string }) => patch({ status: status as CollabStatus }))
    provider.on('sync', (isSynced: boolean) => {
      if (!isSynced || synced) return
      synced = true
      // The server seeds the room from the saved draft; if it did not, the first editor does.
      if (isEmptyDoc(doc) && restRef.current) graphToDoc(restRef.current, doc)
      patch({ synced: true, graph: docToGraph(doc) })
    })
    provider.on('connection-close', (event: CloseEvent | null) => {
      if (event && event.code >= 4400 && event.code < 4500) {
        provider.disconnect() // 4401 / 4403 / 4404 are final: do not retry
        patch({ status: 'refused', refusal: `${event.code} ${event.reason || 'refused'}` })
      }
    })
    return () => {
      cancelAnimationFrame(frame)
      provider.destroy()
      doc.destroy()
    }
  }, [workflowId])

  if (!state) return null
  return state.synced ? state : { ...state, graph: restGraph }
}
