// Whether this workflow is a tool of the workspace's MCP server (/mcp): its published version, run by
// an MCP client with an API token (docs/integrations.md#mcp). One setting, changed by editors and owners.
import { useEffect, useState } from 'react'
import { api } from '../api/client'
import { ProblemNote } from '../teams/ProblemNote'
import { useAction } from '../teams/useAction'
import { triggersApi, type McpExposure } from './api'

interface Props { workflowId: string; canEdit: boolean; stamp: number; changed: () => void }

export function McpSection({ workflowId, canEdit, stamp, changed }: Props) {
  const [state, setState] = useState<McpExposure | null>(null)
  const act = useAction()
  useEffect(() => {
    api.getWorkflow(workflowId).then((w) => setState({
      workflow_id: w.id, exposed: !!w.mcp_exposed, published: w.published_version !== null, tool_name: '',
    })).catch(() => setState(null))
  }, [workflowId, stamp])

  const toggle = async (exposed: boolean) => {
    const done = await act.run(() => triggersApi.setMcp(workflowId, exposed))
    if (done) { setState(done); changed() }
  }

  return (
    <section aria-labelledby="mcp-heading" data-testid="mcp-section">
      <h3 id="mcp-heading" className="trigger-heading">MCP tool</h3>
      <p className="muted small">MCP clients (AI assistants, agents) with an API token of this workspace can call the
        published version at <code>/mcp</code>; the tool's arguments are the trigger's input.</p>
      <label className="check">
        <input type="checkbox" checked={!!state?.exposed} disabled={!canEdit || act.busy || !state}
          onChange={(e) => toggle(e.target.checked)} data-testid="mcp-exposed" />
        Offer this workflow as an MCP tool
      </label>
      {state?.exposed && state.tool_name && <p className="muted small" data-testid="mcp-tool-name">Tool name: <code>{state.tool_name}</code></p>}
      {state?.exposed && !state.published && <p className="muted small">It becomes a tool once it is published.</p>}
      <ProblemNote refusal={act.refusal} testId="mcp-problem" />
    </section>
  )
}
