// The secrets a template import found (its response's `findings`), handed from the gallery to the
// canvas it opens: kept for that one workflow in sessionStorage, read once.
import type { Finding } from './api'

const KEY = 'maily:import-findings:'

export function keepImportFindings(workflowId: string, findings: Finding[] | undefined) {
  if (findings?.length) sessionStorage.setItem(KEY + workflowId, JSON.stringify(findings))
}

export function takeImportFindings(workflowId: string): Finding[] {
  const raw = sessionStorage.getItem(KEY + workflowId)
  if (!raw) return []
  sessionStorage.removeItem(KEY + workflowId)
  try { const list = JSON.parse(raw); return Array.isArray(list) ? list : [] } catch { return [] }
}
