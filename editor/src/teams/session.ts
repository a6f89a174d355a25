// Who is signed in, shared with the screens deep in the tree (the canvas top bar, the settings pages)
// without threading props through the editor: the App provides it.
import { createContext, useContext } from 'react'
import type { Me } from '../api/types'

export interface SessionCtx {
  me: Me
  /** POST /api/auth/switch, then the screens load the new workspace's data. */
  switchTo: (workspace: string) => Promise<void>
  signOut: () => void
  /** Take `next` (a response that is already the new MeOut) or re-read GET /api/auth/me. */
  refresh: (next?: Me) => Promise<void>
}

export const Session = createContext<SessionCtx | null>(null)

export function useSession(): SessionCtx {
  const s = useContext(Session)
  if (!s) throw new Error('useSession outside <Session.Provider>')
  return s
}
