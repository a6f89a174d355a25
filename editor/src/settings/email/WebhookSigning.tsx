// Bounce and complaint webhooks: which provider's signature is checked (or the URL token alone), the URL to
// give the provider (owners: it carries a secret token), and the signing key, write-only (set or remove).
import { useState, type FormEvent } from 'react'
import { Field } from '../../teams/Field'
import { ProblemNote } from '../../teams/ProblemNote'
import { useAction } from '../../teams/useAction'
import { emailApi, KIND_NAMES, SIGNED, type EmailProvider } from './api'

export function WebhookSigning({ provider, isOwner, onSaved }: { provider: EmailProvider; isOwner: boolean; onSaved: () => void }) {
  const [key, setKey] = useState('')
  const act = useAction()
  const signed = provider.webhook_signing_provider
  // the provider's settings as they are, plus the key: the PUT replaces the whole provider document
  const save = async (signingKey: string) => {
    const body = { kind: provider.kind, ...provider.settings, webhook_signing_key: signingKey }
    if (await act.run(() => emailApi.setProvider(body))) { setKey(''); onSaved() }
  }
  const submit = (e: FormEvent) => { e.preventDefault(); save(key) }
  return (
    <section aria-labelledby="email-webhooks-title">
      <h2 id="email-webhooks-title">Webhook signing</h2>
      <p data-testid="email-webhook-verification" data-signed-by={signed ?? ''}>
        {signed
          ? <>Webhooks must carry a valid <strong>{KIND_NAMES[signed]}</strong> signature; other providers' are refused.</>
          : <>No signing key is set: webhooks are authenticated by their secret URL only.</>}
      </p>
      {isOwner && <>
        <p className="small">Bounce and complaint webhook URL (keep it private):{' '}
          <code className="mono break" data-testid="email-webhook-url">{provider.webhook_url}</code></p>
        {SIGNED.includes(provider.kind) ? (
          <form className="inline-form" onSubmit={submit} data-testid="email-signing-form">
            <div className="grow"><Field id="email-signing-key" label={`${KIND_NAMES[provider.kind]} signing key (never shown)`} type="password"
              autoComplete="new-password" field="webhook_signing_key" refusal={act.refusal} value={key} onValue={setKey} required /></div>
            <button className="btn primary" disabled={act.busy} data-testid="email-signing-save">{signed ? 'Replace key' : 'Set key'}</button>
            {signed && <button type="button" className="btn" disabled={act.busy} onClick={() => save('')}
              data-testid="email-signing-remove">Remove key</button>}
            <ProblemNote refusal={act.refusal} testId="email-signing-error" />
          </form>
        ) : <p className="muted small" data-testid="email-signing-unavailable">{KIND_NAMES[provider.kind]} sends no signed webhooks.</p>}
      </>}
      {!isOwner && <p className="muted small">Only an owner can see the webhook URL and set a signing key.</p>}
    </section>
  )
}
