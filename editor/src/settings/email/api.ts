// /api/email's settings parts (docs/email.md): the provider (its secret and webhook signing key go in, never
// come back), and the suppression list.
import { call } from '../../api/client'

export const KINDS = ['outbox', 'smtp', 'resend', 'sendgrid', 'mailgun'] as const
export type Kind = (typeof KINDS)[number]
export const KIND_NAMES: Record<Kind, string> = {
  outbox: 'Built-in outbox (nothing is sent)', smtp: 'SMTP server', resend: 'Resend', sendgrid: 'SendGrid', mailgun: 'Mailgun',
}
/** Providers whose bounce and complaint webhooks can be signed (backend/email/webhooks.py SIGNED_PROVIDERS). */
export const SIGNED: Kind[] = ['resend', 'sendgrid', 'mailgun']

export interface ProviderSettings {
  host?: string; port?: number; security?: 'starttls' | 'tls' | 'none'; username?: string; domain?: string; base_url?: string
}
export interface EmailProvider {
  kind: Kind; settings: ProviderSettings; has_secret: boolean; webhook_url: string
  webhook_signing_provider: Kind | null; webhook_verification: string
}
/** PUT /api/email/provider: `secret` and `webhook_signing_key` absent are kept; an empty signing key removes it. */
export interface ProviderIn extends ProviderSettings { kind: Kind; secret?: string; webhook_signing_key?: string }
export interface Suppression { email: string; reason: string; source: string; created_at: string }

export const emailApi = {
  provider: () => call<EmailProvider>('GET', '/email/provider'),
  setProvider: (body: ProviderIn) => call<EmailProvider>('PUT', '/email/provider', body),
  suppressions: () => call<Suppression[]>('GET', '/email/suppressions'),
  addSuppression: (email: string) => call<{ email: string }>('POST', '/email/suppressions', { email }),
  removeSuppression: (email: string) => call<void>('DELETE', `/email/suppressions/${encodeURIComponent(email)}`),
}
