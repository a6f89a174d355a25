// The canvas's secret warnings: what a template import found (handed over by the gallery), and what
// POST /api/credentials/scan finds in a graph just pasted. The dialog shows while there are findings.
import { useCallback, useEffect, useState } from 'react'
import type { Graph } from '../api/types'
import { credentialsApi, type Finding } from './api'
import { takeImportFindings } from './importFindings'

export function useSecretFindings(workflowId: string) {
  const [findings, setFindings] = useState<Finding[]>([])
  useEffect(() => { const f = takeImportFindings(workflowId); if (f.length) setFindings(f) }, [workflowId])
  // A scan that fails (an old server, a network error) does not stop a paste: it only warns.
  const check = useCallback((graph: Graph) => {
    credentialsApi.scan(graph).then((f) => { if (f.length) setFindings(f) }, () => {})
  }, [])
  const close = useCallback(() => setFindings([]), [])
  return { findings, check, close }
}
