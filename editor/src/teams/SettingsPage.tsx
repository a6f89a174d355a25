// The frame of every settings screen: header (switcher, account menu), a side nav, the screen's content.
import type { ReactNode } from 'react'
import { AccountMenu } from './AccountMenu'
import { useSession } from './session'
import { WorkspaceSwitcher } from './WorkspaceSwitcher'

const NAV: [string, string][] = [
  ['/settings/members', 'Members'], ['/settings/account', 'Account'], ['/settings/tokens', 'API tokens'],
  ['/settings/workspace', 'Workspace'], ['/settings/ai', 'AI'], ['/settings/email', 'Email'],
]

export function SettingsPage({ title, path, children }: { title: string; path: string; children: ReactNode }) {
  const { me } = useSession()
  const nav = me.is_admin ? [...NAV, ['/admin', 'Admin'] as [string, string]] : NAV
  return (
    <div className="page">
      <header className="app-header">
        <a className="brand" href="/" title="All workflows"><span className="logo" aria-hidden="true">M</span> Maily Flow</a>
        <div className="grow" />
        <WorkspaceSwitcher />
        <AccountMenu />
      </header>
      <div className="settings-layout">
        <nav className="settings-nav" aria-label="Settings">
          <a href="/">← Workflows</a>
          {nav.map(([href, label]) => (
            <a key={href} href={href} aria-current={href === path ? 'page' : undefined}>{label}</a>
          ))}
        </nav>
        <main className="settings-main" data-testid={`screen-${path.split('/').pop()}`}>
          <h1>{title}</h1>
          {children}
        </main>
      </div>
    </div>
  )
}
