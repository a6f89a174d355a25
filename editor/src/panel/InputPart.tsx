// The panel's input part: what arrives at the node (its direct upstream nodes' data) and every earlier node's,
// listed by label, from pins or the last run. Fields drag onto config fields as expressions.
import type { Graph, GraphNode, NodeType } from '../api/types'
import { DataView } from './DataView'
import { baseFor } from './paths'
import type { Source } from './upstream'

interface Props {
  graph: Graph
  sources: Source[]
  specOf: (n: GraphNode | undefined) => NodeType | undefined
  outputsOf: (id: string) => { ports: Record<string, unknown> | null; pinned: boolean }
}

export function InputPart({ graph, sources, specOf, outputsOf }: Props) {
  const direct = sources.filter((s) => s.direct)
  const earlier = sources.filter((s) => !s.direct)
  return (
    <section className="panel-part" aria-labelledby="panel-input-title" data-testid="panel-input">
      <h4 id="panel-input-title">Input</h4>
      {!sources.length && <p className="muted small">Nothing comes in: this node starts the run, or nothing is connected to it.</p>}
      {direct.map((s) => <SourceBlock key={`${s.id}:${s.port}`} graph={graph} source={s} specOf={specOf} outputsOf={outputsOf} />)}
      {earlier.length > 0 && (
        <details className="earlier" data-testid="panel-earlier">
          <summary>Earlier nodes ({earlier.length})</summary>
          {earlier.map((s) => <SourceBlock key={s.id} graph={graph} source={s} specOf={specOf} outputsOf={outputsOf} />)}
        </details>
      )}
    </section>
  )
}

function SourceBlock({ graph, source, specOf, outputsOf }: { graph: Graph; source: Source } & Omit<Props, 'graph' | 'sources'>) {
  const node = graph.nodes.find((n) => n.id === source.id)
  const spec = specOf(node)
  const { ports, pinned } = outputsOf(source.id)
  const names = ports ? Object.keys(ports) : []
  const port = source.direct || !names.length ? source.port : names[0]
  const value = ports?.[port]
  const base = baseFor(source.id, !!spec?.trigger, port, names[0] === port || !names.length)
  return (
    <div className="panel-source" data-testid={`panel-source-${source.id}`}>
      <div className="panel-source-head">
        <b>{node?.label || spec?.title || source.id}</b>
        <span className="muted small mono">{source.id}{port !== 'output' ? ` · ${port}` : ''}</span>
        {pinned && <span className="tag pin-tag">pinned</span>}
      </div>
      {ports && port in ports
        ? <DataView value={value} base={base} testId={`input-${source.id}`} />
        : <p className="muted small">No data yet: run the workflow, execute this node, or pin its output.</p>}
    </div>
  )
}
