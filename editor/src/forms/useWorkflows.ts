// The workspace's workflows (GET /api/workflows), for the selects that name another workflow: a node's
// workflow field (WorkflowPicker), the error workflow and chains (triggers/). `failed` when the read failed.
import { useEffect, useState } from 'react'
import { api } from '../api/client'
import type { WorkflowSummary } from '../api/types'

export function useWorkflows() {
  const [list, setList] = useState<WorkflowSummary[] | null>(null)
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    let live = true
    api.listWorkflows().then((l) => live && setList(l), () => live && setFailed(true))
    return () => { live = false }
  }, [])
  return { list, failed }
}

/** How a workflow reads in a select: its name and whether (which version) it is published. */
export const workflowOption = (w: WorkflowSummary) =>
  `${w.name} (${w.published_version === null ? 'not published' : `published v${w.published_version}`})`
