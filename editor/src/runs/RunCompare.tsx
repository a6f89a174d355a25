// Two runs side by side, node by node: each side's status and output (or error); rows that differ are marked.
import { useEffect, useState } from 'react'
import { runsApi, type NodeSide, type RunCompare as Comparison } from './api'

const show = (side: NodeSide | null) => side === null ? 'did not run'
  : JSON.stringify(side.error ?? side.output ?? null, null, 1)

export function RunCompare({ a, b, onClose }: { a: string; b: string; onClose: () => void }) {
  const [doc, setDoc] = useState<Comparison | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => { runsApi.compare(a, b).then(setDoc).catch((e) => setError(e.message)) }, [a, b])
  return (
    <section className="run-compare" data-testid="run-compare" aria-labelledby="run-compare-title">
      <div className="list-head">
        <h2 id="run-compare-title">Compare <span className="mono">{a.slice(0, 8)}</span> and <span className="mono">{b.slice(0, 8)}</span></h2>
        <div className="grow" />
        {doc && <span className="small" data-testid="run-compare-summary">{doc.differing} node(s) differ · final output {doc.same_output ? 'the same' : 'differs'}</span>}
        <button className="btn small" onClick={onClose} data-testid="run-compare-close">Close</button>
      </div>
      {error && <div className="problem error">{error}</div>}
      {doc && (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Node by node comparison">
          <table className="data-table">
            <thead><tr><th scope="col">Node</th><th scope="col">Run {a.slice(0, 8)}</th><th scope="col">Run {b.slice(0, 8)}</th></tr></thead>
            <tbody>
              {doc.nodes.map((n) => (
                <tr key={`${n.node_id}:${n.iteration ?? ''}`} className={n.same ? '' : 'differs'}
                  data-testid={`compare-row-${n.node_id}${n.iteration === null ? '' : `-${n.iteration}`}`} data-same={n.same}>
                  <th scope="row"><span className="mono">{n.node_id}{n.iteration === null ? '' : `[${n.iteration}]`}</span>
                    <div className="muted small">{n.node_type}{n.same ? '' : ' · differs'}</div></th>
                  {[n.a, n.b].map((side, i) => (
                    <td key={i}>{side && <span className={`pill state-${side.status}`}>{side.status}</span>}
                      <pre className="compare-value">{show(side)}</pre></td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
