// The panel's data: the selected node's and its upstream nodes' latest node runs in the draft's runs
// (GET /api/workflows/{id}/panel/data), read again whenever the run shown on the canvas changes state.
import { useEffect, useState } from 'react'
import { api } from '../api/client'
import type { PanelData } from '../api/types'

export function usePanelData(workflowId: string, nodeIds: string[], refreshKey: string) {
  const [data, setData] = useState<PanelData | null>(null)
  const key = nodeIds.join(',')
  useEffect(() => {
    let live = true
    api.panelData(workflowId, nodeIds).then((d) => live && setData(d)).catch(() => live && setData(null))
    return () => { live = false }
  }, [workflowId, key, refreshKey]) // eslint-disable-line react-hooks/exhaustive-deps
  return data
}
