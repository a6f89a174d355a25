// `item` inside a for_each's sub-path, for completions: one sample object whose keys are those the items
// had in the last run (what a node fed by the loop's per-item port received at item 0, the loop's recorded
// input, the list its `items` expression or its input names in pins and last outputs) merged with the keys
// the list declares (a manual trigger's input_schema, for `{{ trigger.<path> }}`).
import type { Graph, JsonSchema, PanelData } from '../api/types'
import { getPath, type Path } from './paths'
import type { SpecOf } from './upstream'

const MAX_ITEMS = 20                   // how many items of a list are looked at for their keys

/** `{{ trigger.a.b }}` or `{{ nodes.x.output.list }}` as [root, ...path]; null for anything else. */
function simplePath(expr: unknown): Path | null {
  const m = typeof expr === 'string' ? expr.match(/^\s*\{\{\s*([A-Za-z_][\w.]*)\s*\}\}\s*$/) : null
  return m ? m[1].split('.') : null
}

/** A sample value of a JSON Schema: objects with every declared property, arrays with one sample item. */
function sampleOf(schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 6) return null
  if (schema.type === 'array') return [sampleOf(schema.items, depth + 1)]
  if (schema.properties) return Object.fromEntries(Object.entries<JsonSchema>(schema.properties).map(([k, s]) => [k, sampleOf(s, depth + 1)]))
  return null
}

/** One object with the keys of all the samples (nested objects merged too; the first value that is data wins). */
function merge(samples: unknown[]): unknown {
  const objects = samples.filter((s): s is Record<string, unknown> => !!s && typeof s === 'object' && !Array.isArray(s))
  if (!objects.length) return samples.find((s) => s !== null && s !== undefined)
  const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))]
  return Object.fromEntries(keys.map((k) => [k, merge(objects.map((o) => o[k]))]))
}

const firstItems = (list: unknown): unknown[] => (Array.isArray(list) ? list.slice(0, MAX_ITEMS) : [])

export interface LoopData {
  graph: Graph
  loop: string
  specOf: SpecOf
  data: PanelData | null
  /** A node's outputs by port: its pin, else its last successful output. */
  outputsOf: (id: string) => Record<string, unknown> | null
  trigger: unknown
}

export function itemSample({ graph, loop, specOf, data, outputsOf, trigger }: LoopData): unknown {
  const samples: unknown[] = []
  const byId = new Map(graph.nodes.map((n) => [n.id, n]))
  const fe = byId.get(loop)
  // what item 0 carried into the sub-path (nodes fed by the loop's per-item port, this one or upstream)
  for (const e of graph.edges) {
    const row = e.source === loop && specOf(fe)?.outputs.find((p) => p.name === e.source_port)?.each ? data?.nodes[e.target] : undefined
    if (row && row.iteration === 0 && row.input && typeof row.input === 'object') samples.push((row.input as Record<string, unknown>)[e.target_port])
  }
  const items = fe?.config.items
  const path = simplePath(items)
  if (items === undefined || items === null) {   // the list is the loop's input
    samples.push(...firstItems((data?.nodes[loop]?.input as Record<string, unknown> | undefined)?.input))
    const into = graph.edges.find((e) => e.target === loop && e.target_port === 'input')
    if (into) samples.push(...firstItems(outputsOf(into.source)?.[into.source_port]))
  } else if (path && path[0] === 'trigger') {
    samples.push(...firstItems(getPath(trigger, path.slice(1))))
    const manual = graph.nodes.find((n) => specOf(n)?.trigger && n.config.input_schema)
    let schema = manual?.config.input_schema as JsonSchema | undefined
    for (const k of path.slice(1)) schema = schema?.properties?.[k]
    const declared = sampleOf(schema)
    if (Array.isArray(declared)) samples.push(declared[0])
  } else if (path && path[0] === 'nodes' && path.length >= 3) {
    const ports = outputsOf(String(path[1]))
    const value = path[2] === 'output' ? (ports ? Object.values(ports)[0] : undefined) : path[2] === 'ports' ? ports : undefined
    samples.push(...firstItems(getPath(value, path.slice(3))))
  }
  return merge(samples)
}
