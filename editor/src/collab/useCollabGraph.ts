// The draft as a Y.Doc synced over /api/collab/{id}; until the first sync the REST graph is shown read-only.
// The canvas page calls it before the REST workflow has arrived, so the socket syncs while the page loads.
import { useEffect, useRef, useState } from 'react'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import type { Graph } from '../api/types'
import { wsUrl } from '../api/client'
import { docToGraph, graphToDoc, isEmptyDoc } from './convert'
import { reportSocketClose } from '../teams/signedOut'

export type CollabStatus = 'connecting' | 'connected' | 'disconnected' | 'refused'

export interface Collab {
  workflowId: string
  doc: Y.Doc
  provider: WebsocketProvider
  status: CollabStatus
  synced: boolean // true once the server's document has arrived: from then on the doc is the truth
  refusal: string | null
  graph: Graph | null
}

/** `restGraph` may arrive after the document: null until then. */
export function useCollabGraph(workflowId: string, restGraph: Graph | null): Collab | null {
  const [state, setState] = useState<Collab | null>(null)
  const restRef = useRef(restGraph)
  restRef.current = restGraph

  useEffect(() => {
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(wsUrl('/api/collab'), workflowId, doc, { disableBc: true, maxBackoffTime: 5000 })
    // With an 'update' listener, Yjs re-encodes every transaction to emit it: for the server's first sync
    // step 2 (the whole document) that is as long again as applying it. Nothing local needs sending before
    // the first sync (the canvas is read-only until then, and the reply to the server's step 1 carries all
    // we have anyway), so the provider's sender is attached from the first sync on; the canvas listens to
    // transactions, which cost nothing to emit.
    doc.off('update', provider._updateHandler)
    let synced = false
    let frame = 0
    const patch = (p: Partial<Collab>) => setState((s) => ({ ...(s ?? base), ...p }))
    const base: Collab = { workflowId, doc, provider, status: 'connecting', synced: false, refusal: null, graph: null }
    setState(base)

    const refresh = () => {
      if (!synced || frame) return
      frame = requestAnimationFrame(() => { frame = 0; patch({ graph: docToGraph(doc) }) })
    }
    doc.on('afterTransaction', (tr: Y.Transaction) => { if (tr.changed.size || tr.deleteSet.clients.size) refresh() })
    provider.on('status', ({ status }: { status: string }) => patch({ status: status as CollabStatus }))
    provider.on('sync', (isSynced: boolean) => {
      if (!isSynced || synced) return
      synced = true
      performance.mark('maily:synced') // for profiling an open (docs/editor.md)
      doc.on('update', provider._updateHandler)
      // The server seeds the room from the saved draft; if it did not, the first editor does.
      if (isEmptyDoc(doc) && restRef.current) graphToDoc(restRef.current, doc)
      patch({ synced: true, graph: docToGraph(doc) })
    })
    provider.on('connection-close', (event: CloseEvent | null) => {
      reportSocketClose(event) // 4401: the whole page is signed out (teams/SignedOutOverlay)
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

  // The server seeds the room itself; if it did not and the REST graph came after the sync, fill it now.
  const synced = !!state?.synced
  useEffect(() => {
    if (synced && state && restGraph && isEmptyDoc(state.doc)) graphToDoc(restGraph, state.doc)
  }, [synced, restGraph]) // eslint-disable-line react-hooks/exhaustive-deps

  if (!state || state.workflowId !== workflowId) return null
  return state.synced ? state : { ...state, graph: restGraph }
}
