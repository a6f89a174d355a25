// The models this workspace's AI nodes try in order (its plan's chain), whose key each uses, and the other plans'.
import { useCallback } from 'react'
import { ProblemNote } from '../../teams/ProblemNote'
import { useLoad } from '../../teams/useLoad'
import { aiApi, type ChainEntry } from './api'

const KEY_TEXT: Record<ChainEntry['key'], string> = {
  workspace: "this workspace's key", operator: "the instance's key", missing: 'no key: skipped',
}

export function ModelChain() {
  const chains = useLoad(useCallback(() => aiApi.models(), []))
  const data = chains.data
  return (
    <section aria-labelledby="ai-chain-title">
      <h2 id="ai-chain-title">Model chain</h2>
      <ProblemNote refusal={chains.refusal} testId="ai-chain-error" />
      {data && <>
        <p>Plan: <span className="pill" data-testid="ai-tier">{data.tier}</span>{' '}
          <span className="muted small">the first model that answers wins; past the last, the offline baseline answers.</span></p>
        {data.chain.length === 0
          ? <p className="muted" data-testid="ai-chain-empty">This plan uses the offline baseline only: no model is called.</p>
          : (
            <table className="data-table" data-testid="ai-chain-table">
              <caption className="sr-only">Models tried in order on the {data.tier} plan</caption>
              <thead><tr><th scope="col">Order</th><th scope="col">Provider</th><th scope="col">Model</th><th scope="col">Key</th></tr></thead>
              <tbody>
                {data.chain.map((e, i) => (
                  <tr key={`${e.provider}:${e.model}`} data-testid={`ai-chain-${i}`} data-key={e.key}>
                    <td>{i + 1}</td><td>{e.provider}</td><td className="mono">{e.model}</td>
                    <td><span className={`pill ${e.key === 'missing' ? 'state-failed' : 'state-succeeded'}`}>{KEY_TEXT[e.key]}</span></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        <details className="small">
          <summary>Every plan's chain</summary>
          <ul data-testid="ai-tiers">
            {Object.entries(data.tiers).map(([tier, chain]) => (
              <li key={tier}><strong>{tier}</strong>: {chain.length ? chain.map((e) => `${e.provider} ${e.model}`).join(' → ') : 'offline baseline only'}</li>
            ))}
          </ul>
        </details>
      </>}
    </section>
  )
}
