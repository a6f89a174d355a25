import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react'
import { api } from './api/client'
import type { Me } from './api/types'
import { interceptLinks, navigate, usePath } from './router'
import { SignIn } from './pages/SignIn'
import { WorkflowList } from './pages/WorkflowList'
import { CanvasPage } from './pages/Canvas'
import { Session, type SessionCtx } from './teams/session'
import { SignedOutOverlay } from './teams/SignedOutOverlay'
import { SIGNED_OUT_EVENT } from './teams/signedOut'
import { useSignedOut } from './teams/useSignedOut'

// Screens other than the list and the canvas load on first visit (the canvas's bundle stays smaller).
const Gallery = lazy(() => import('./templates/Gallery').then((m) => ({ default: m.Gallery })))
const Outbox = lazy(() => import('./outbox/Outbox').then((m) => ({ default: m.Outbox })))
const RunsPage = lazy(() => import('./runs/RunsPage').then((m) => ({ default: m.RunsPage })))
const teams = () => import('./teams/screens')
const workspaceSettings = () => import('./settings/screens')
const SignUp = lazy(() => teams().then((m) => ({ default: m.SignUp })))
const AcceptInvite = lazy(() => teams().then((m) => ({ default: m.AcceptInvite })))
const ResetPassword = lazy(() => teams().then((m) => ({ default: m.ResetPassword })))
const SETTINGS: Record<string, React.LazyExoticComponent<() => React.JSX.Element>> = {
  '/settings/members': lazy(() => teams().then((m) => ({ default: m.Members }))),
  '/settings/account': lazy(() => teams().then((m) => ({ default: m.Account }))),
  '/settings/tokens': lazy(() => teams().then((m) => ({ default: m.Tokens }))),
  '/settings/workspace': lazy(() => teams().then((m) => ({ default: m.WorkspaceSettings }))),
  '/settings/ai': lazy(() => workspaceSettings().then((m) => ({ default: m.AiSettings }))),
  '/settings/email': lazy(() => workspaceSettings().then((m) => ({ default: m.EmailSettings }))),
  '/settings/credentials': lazy(() => import('./credentials/Credentials').then((m) => ({ default: m.Credentials }))),
  '/admin': lazy(() => teams().then((m) => ({ default: m.Admin }))),
}
const loading = <div className="loading-screen">Loading…</div>
// Screens one may open signed out; after signing in there, the app goes to the workflow list.
const PUBLIC = /^\/(?:signin|signup|invite\/[^/]+|reset\/[^/]+)\/?$/

export function App() {
  const path = usePath()
  const [me, setMe] = useState<Me | null | undefined>(undefined)
  const signedOut = useSignedOut()

  const refresh = useCallback((next?: Me) => next ? Promise.resolve(setMe(next)) : api.me().then(setMe).catch(() => setMe(null)), [])
  useEffect(() => { refresh() }, [refresh])
  useEffect(() => {
    document.addEventListener('click', interceptLinks)
    // On the canvas a refused request means the same as a socket closed with 4401: keep the canvas
    // (what was drawn stays readable) under the signed-out overlay rather than replacing it.
    const out = () => {
      if (window.location.pathname.startsWith('/workflows/')) window.dispatchEvent(new Event(SIGNED_OUT_EVENT))
      else setMe(null)
    }
    window.addEventListener('maily:unauthorized', out)
    return () => { document.removeEventListener('click', interceptLinks); window.removeEventListener('maily:unauthorized', out) }
  }, [])

  const signedIn = useCallback((m: Me) => { setMe(m); if (PUBLIC.test(window.location.pathname)) navigate('/', true) }, [])
  const signOut = useCallback(() => { api.logout().finally(() => { setMe(null); navigate('/signin') }) }, [])
  const session = useMemo<SessionCtx | null>(() => me ? {
    me, signOut, refresh,
    switchTo: async (workspace: string) => {
      await api.switchWorkspace(workspace)
      setMe(await api.me())
      // a workflow belongs to the workspace left behind
      if (window.location.pathname.startsWith('/workflows/')) navigate('/')
    },
  } : null, [me, signOut, refresh])

  if (me === undefined) return loading
  if (path === '/signup') return <Suspense fallback={loading}><SignUp onSignedIn={signedIn} /></Suspense>
  const invite = /^\/invite\/([^/]+)\/?$/.exec(path)
  if (invite) {
    return <Suspense fallback={loading}><AcceptInvite token={invite[1]} me={me} onJoined={signedIn}
      onSignOut={() => { api.logout().finally(() => setMe(null)) }} /></Suspense>
  }
  const reset = /^\/reset\/([^/]+)\/?$/.exec(path)
  if (reset) return <Suspense fallback={loading}><ResetPassword token={reset[1]} /></Suspense>
  if (me === null || !session) return <SignIn onSignedIn={signedIn} />
  // Keyed by workspace: switching remounts the screen, which loads the new workspace's data.
  return (
    <Session.Provider value={session}>
      {/* under the signed-out overlay the screen is inert: no focus, no clicks, hidden from screen readers */}
      <div className="screen" inert={signedOut}><Screen key={me.tenant_id} path={path} me={me} /></div>
      <SignedOutOverlay />
    </Session.Provider>
  )
}

function Screen({ path, me }: { path: string; me: Me }) {
  const m = /^\/workflows\/([^/]+)/.exec(path)
  if (m) return <CanvasPage id={m[1]} me={me} />
  if (/^\/runs\/?$/.test(path)) return <Suspense fallback={loading}><RunsPage me={me} /></Suspense>
  if (path === '/templates') return <Suspense fallback={loading}><Gallery me={me} /></Suspense>
  const out = /^\/outbox(?:\/([^/]+))?\/?$/.exec(path)
  if (out) return <Suspense fallback={loading}><Outbox me={me} messageId={out[1] ?? null} /></Suspense>
  const Settings = SETTINGS[path.replace(/\/$/, '')]
  if (Settings) return <Suspense fallback={loading}><Settings /></Suspense>
  return <WorkflowList me={me} />
}
