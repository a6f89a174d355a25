// The centred card of the screens one sees before (or instead of) the app: sign-up, invitation, reset.
import type { ReactNode } from 'react'

export function AuthCard({ title, testId, children }: { title: string; testId: string; children: ReactNode }) {
  return (
    <main className="signin-page">
      <div className="signin-card" data-testid={testId}>
        <div className="brand big"><span className="logo" aria-hidden="true">M</span> Maily Flow</div>
        <h1 className="auth-title">{title}</h1>
        {children}
      </div>
    </main>
  )
}
