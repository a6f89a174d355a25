// The provider: its kind and settings (host, port, security, username for SMTP; the sender domain and region
// URL for Mailgun) and the secret, which is write-only: blank keeps the stored one. Read-only unless owner.
import { useState, type FormEvent } from 'react'
import { Field } from '../../teams/Field'
import { ProblemNote } from '../../teams/ProblemNote'
import { useAction } from '../../teams/useAction'
import { emailApi, KIND_NAMES, KINDS, type EmailProvider, type Kind, type ProviderSettings } from './api'

const SECRET_LABEL: Partial<Record<Kind, string>> = { smtp: 'Password', resend: 'API key', sendgrid: 'API key', mailgun: 'API key' }

export function ProviderForm({ provider, isOwner, onSaved }: { provider: EmailProvider; isOwner: boolean; onSaved: () => void }) {
  const [kind, setKind] = useState<Kind>(provider.kind)
  const [s, setS] = useState<ProviderSettings>(provider.settings)
  const [secret, setSecret] = useState('')
  const [saved, setSaved] = useState(false)
  const act = useAction()
  const set = (k: keyof ProviderSettings) => (v: string) => { setS((old) => ({ ...old, [k]: k === 'port' ? Number(v) : v })); setSaved(false) }
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const body = { kind, ...s, ...(secret ? { secret } : {}) }
    if (await act.run(() => emailApi.setProvider(body))) { setSecret(''); setSaved(true); onSaved() }
  }
  const keepsSecret = provider.has_secret && kind === provider.kind
  return (
    <section aria-labelledby="email-provider-title">
      <h2 id="email-provider-title">Provider</h2>
      {!isOwner && <p className="muted" data-testid="email-provider-readonly">Only an owner can change the email provider.</p>}
      <form className="stack-form" onSubmit={submit} data-testid="email-provider-form">
        <fieldset disabled={!isOwner} className="plain-fieldset">
          <legend className="sr-only">Email provider settings</legend>
          <label className="field-label" htmlFor="email-kind">Send mail with</label>
          <select id="email-kind" className="input" value={kind} data-testid="email-kind"
            onChange={(e) => { setKind(e.target.value as Kind); setSaved(false) }}>
            {KINDS.map((k) => <option key={k} value={k}>{KIND_NAMES[k]}</option>)}
          </select>
          {kind === 'outbox' && <p className="muted small">Mail is kept in the <a href="/outbox">outbox</a>; nothing leaves the machine.</p>}
          {kind === 'smtp' && <>
            <Field id="email-host" label="Host" field="host" refusal={act.refusal} value={s.host ?? ''} onValue={set('host')} required />
            <Field id="email-port" label="Port" type="number" min={1} max={65535} field="port" refusal={act.refusal} value={String(s.port ?? 587)} onValue={set('port')} />
            <label className="field-label" htmlFor="email-security">Security</label>
            <select id="email-security" className="input" value={s.security ?? 'starttls'} onChange={(e) => set('security')(e.target.value)}>
              <option value="starttls">STARTTLS</option><option value="tls">TLS</option><option value="none">None</option>
            </select>
            <Field id="email-username" label="Username" field="username" refusal={act.refusal} value={s.username ?? ''} onValue={set('username')} autoComplete="off" />
          </>}
          {kind === 'mailgun' && <>
            <Field id="email-domain" label="Sender domain" field="domain" refusal={act.refusal} value={s.domain ?? ''} onValue={set('domain')}
              required placeholder="mg.example.com" />
            <Field id="email-base-url" label="API base URL (optional, e.g. the EU region)" type="url" field="base_url" refusal={act.refusal}
              value={s.base_url ?? ''} onValue={set('base_url')} placeholder="https://api.eu.mailgun.net" />
          </>}
          {SECRET_LABEL[kind] && <>
            <Field id="email-secret" label={SECRET_LABEL[kind]!} type="password" autoComplete="new-password" field="secret" refusal={act.refusal}
              value={secret} onValue={(v) => { setSecret(v); setSaved(false) }} aria-describedby="email-secret-hint"
              required={!keepsSecret && kind !== 'smtp'} />
            <p id="email-secret-hint" className="muted small" data-testid="email-secret-state">{
              keepsSecret ? 'A secret is stored (never shown). Leave blank to keep it.'
                // the server keeps a stored secret when none is sent: the previous provider's key must not carry over unnoticed
                : provider.has_secret ? `The stored secret is ${KIND_NAMES[provider.kind]}'s: enter this provider's.`
                  : 'No secret is stored yet.'}</p>
          </>}
          {isOwner && <div><button className="btn primary" disabled={act.busy} data-testid="email-provider-save">Save provider</button></div>}
        </fieldset>
        <ProblemNote refusal={act.refusal} testId="email-provider-error" />
        {saved && <p className="problem ok" role="status" data-testid="email-provider-saved">Saved.</p>}
      </form>
    </section>
  )
}
