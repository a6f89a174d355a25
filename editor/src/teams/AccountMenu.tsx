// The account menu: the settings screens, Admin for the instance admin, and Sign out.
// A disclosure (button + list): Tab reaches every item, Escape closes and returns focus to the button.
import { useEffect, useRef, useState } from 'react'
import { useSession } from './session'
import { ThemeToggle } from '../ui/ThemeToggle'

export function AccountMenu() {
  const { me, signOut } = useSession()
  const [open, setOpen] = useState(false)
  const root = useRef<HTMLDivElement>(null)
  const button = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (!open) return
    const away = (e: MouseEvent) => { if (!root.current?.contains(e.target as Node)) setOpen(false) }
    document.addEventListener('mousedown', away)
    return () => document.removeEventListener('mousedown', away)
  }, [open])
  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape' && open) { setOpen(false); button.current?.focus() }
  }
  const close = () => setOpen(false)
  return (
    <div className="account-menu" ref={root} onKeyDown={onKey}>
      <ThemeToggle />
      <button ref={button} className="btn" aria-expanded={open} aria-controls="account-menu-list" data-testid="account-menu"
        onClick={() => setOpen((o) => !o)}>
        {me.name || me.email} <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <ul id="account-menu-list" className="account-menu-list" aria-label="Account">
          <li><a href="/settings/members" onClick={close} data-testid="menu-members">Members</a></li>
          <li><a href="/settings/account" onClick={close} data-testid="menu-account">Account</a></li>
          <li><a href="/settings/tokens" onClick={close} data-testid="menu-tokens">API tokens</a></li>
          <li><a href="/settings/workspace" onClick={close} data-testid="menu-workspace">Workspace settings</a></li>
          <li><a href="/settings/ai" onClick={close} data-testid="menu-ai">AI</a></li>
          <li><a href="/settings/email" onClick={close} data-testid="menu-email">Email</a></li>
          {me.is_admin && <li><a href="/admin" onClick={close} data-testid="menu-admin">Admin</a></li>}
          <li><button className="menu-item" onClick={() => { close(); signOut() }} data-testid="signout">Sign out</button></li>
        </ul>
      )}
    </div>
  )
}
