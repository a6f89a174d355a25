// A read-only canvas of a template's graph: plain boxes, nothing editable, nothing run or rendered.
import { Background, Controls, ReactFlow, ReactFlowProvider, type Edge, type Node } from '@xyflow/react'
import type { Graph } from '../api/types'

export function TemplatePreview({ graph, aiNodes }: { graph: Graph; aiNodes: Set<string> }) {
  const nodes: Node[] = graph.nodes.map((n) => ({
    id: n.id, position: n.position ?? { x: 0, y: 0 },
    data: { label: <div><div className="tpl-node-label">{n.label || n.id}</div><div className="muted small">{n.type}</div></div> },
    className: `tpl-node${aiNodes.has(n.id) ? ' ai' : ''}`, draggable: false, selectable: false, connectable: false,
  }))
  const edges: Edge[] = graph.edges.map((e) => ({
    id: e.id, source: e.source, target: e.target,
    label: e.source_port !== 'output' ? e.source_port : undefined,
  }))
  return (
    <div className="tpl-preview" data-testid="template-preview">
      <ReactFlowProvider>
        <ReactFlow nodes={nodes} edges={edges} fitView nodesDraggable={false} nodesConnectable={false}
          elementsSelectable={false} proOptions={{ hideAttribution: true }} minZoom={0.2}>
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </ReactFlowProvider>
    </div>
  )
}
