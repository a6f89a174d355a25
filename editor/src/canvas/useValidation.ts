// POST /api/graph/validate on the serialized draft, debounced; problems grouped per node and per field.
import { useEffect, useMemo, useState } from 'react'
import { api } from '../api/client'
import type { Graph, Problem, Validation } from '../api/types'
import type { FieldErrors } from '../forms/SchemaForm'

export function useValidation(graph: Graph | null, delayMs = 500) {
  const [state, setState] = useState<{ graph: Graph; result: Validation } | null>(null)
  const key = useMemo(() => (graph ? JSON.stringify(graph) : ''), [graph])

  useEffect(() => {
    if (!graph) return
    let stale = false
    const t = setTimeout(() => {
      api.validate(graph).then((result) => { if (!stale) setState({ graph, result }) }).catch(() => {})
    }, delayMs)
    return () => { stale = true; clearTimeout(t) }
  }, [key]) // eslint-disable-line react-hooks/exhaustive-deps

  return useMemo(() => {
    const byNode: Record<string, Problem[]> = {}
    const fields: Record<string, FieldErrors> = {}
    const general: Problem[] = []
    for (const p of state?.result.problems ?? []) {
      const m = /^\/nodes\/(\d+)(\/config(\/.*))?/.exec(p.pointer)
      const nodeId = p.node_id ?? (m ? state!.graph.nodes[Number(m[1])]?.id : undefined)
      if (nodeId) (byNode[nodeId] ??= []).push(p)
      else general.push(p)
      for (const id of p.node_ids ?? []) if (id !== nodeId) (byNode[id] ??= []).push(p)
      if (nodeId && m?.[3]) ((fields[nodeId] ??= {})[m[3]] ??= []).push(p.message)
    }
    return { result: state?.result ?? null, byNode, fields, general }
  }, [state])
}
