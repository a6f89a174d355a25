// The workspaces the caller belongs to (GET /api/workspaces); the session's own list until it answers.
import { useEffect, useState } from 'react'
import { api } from '../api/client'
import type { Me, Workspace } from '../api/types'

export function useWorkspaces(me: Me): Workspace[] {
  const fallback = me.tenants as Workspace[]
  const [list, setList] = useState<Workspace[] | null>(null)
  useEffect(() => {
    let live = true
    api.listWorkspaces().then((r) => { if (live) setList(r.items) }, () => {})
    return () => { live = false }
  }, [me.tenant_id, me.tenants.length])
  return list ?? fallback
}
