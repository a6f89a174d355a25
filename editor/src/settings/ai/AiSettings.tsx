// /settings/ai: the plan's model chain, provider keys (owners), budget and quota, usage by day and model.
import { useState } from 'react'
import { SettingsPage } from '../../teams/SettingsPage'
import { useSession } from '../../teams/session'
import { BudgetPanel } from './BudgetPanel'
import { ModelChain } from './ModelChain'
import { ProviderKeys } from './ProviderKeys'
import { UsageChart } from './UsageChart'

export function AiSettings() {
  const { me } = useSession()
  const isOwner = me.role === 'owner'
  // a key set or removed changes whose key the chain uses: the chain reads again
  const [keysChanged, setKeysChanged] = useState(0)
  return (
    <SettingsPage title="AI" path="/settings/ai">
      <p className="muted">AI nodes use a model when the plan, the budget and a provider key allow it; otherwise the offline baseline answers and the run goes on.</p>
      <ModelChain key={keysChanged} />
      {isOwner ? <ProviderKeys onChanged={() => setKeysChanged((n) => n + 1)} /> : (
        <section aria-labelledby="ai-keys-title">
          <h2 id="ai-keys-title">Provider keys</h2>
          <p className="muted" data-testid="ai-keys-owner-only">Only an owner can see and change the workspace's provider keys.</p>
        </section>
      )}
      <BudgetPanel isOwner={isOwner} />
      <UsageChart />
    </SettingsPage>
  )
}
