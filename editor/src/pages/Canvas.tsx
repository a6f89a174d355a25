import { useEffect, useState } from 'react'
import { ReactFlowProvider } from '@xyflow/react'
import { canvasData } from '../api/prefetch'
import type { Me, NodeType, Workflow } from '../api/types'
import { Editor } from '../canvas/Editor'
import { useCollabGraph } from '../collab/useCollabGraph'
import { TemplateBar } from '../templates/TemplateBar'

export function CanvasPage({ id, me }: { id: string; me: Me }) {
  const [wf, setWf] = useState<Workflow | null>(null)
  const [catalogue, setCatalogue] = useState<NodeType[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  // The live document connects at once, alongside the REST requests, not after the canvas's first render.
  const collab = useCollabGraph(id, wf?.id === id ? wf.graph : null)
  useEffect(() => {
    setWf(null); setError(null)
    canvasData(id)
      .then(([w, c]) => { performance.mark('maily:workflow'); setWf(w); setCatalogue(c); document.title = `${w.name} · Maily Flow` })
      .catch((e) => setError(e.status === 404 ? 'This workflow does not exist (or is not in your workspace).' : e.message))
  }, [id])
  if (error) return <div className="loading-screen"><div><p className="problem error">{error}</p><a href="/">Back to workflows</a></div></div>
  if (!wf || !catalogue) return <div className="loading-screen">Loading workflow…</div>
  return <ReactFlowProvider><Editor key={wf.id} workflow={wf} collab={collab} catalogue={catalogue} me={me} /><TemplateBar workflowId={wf.id} workflowName={wf.name} me={me} /></ReactFlowProvider>
}
