// The top bar of the full-page screens (workflow list, runs, outbox): the brand, then what the screen puts right.
import type { ReactNode } from 'react'

export function AppHeader({ children }: { children?: ReactNode }) {
  return (
    <header className="app-header">
      <div className="brand"><span className="logo">M</span> Maily Flow</div>
      <div className="grow" />
      {children}
    </header>
  )
}
