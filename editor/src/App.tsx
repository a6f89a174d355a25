import { lazy, Suspense, useCallback, useEffect, useState } from 'react'
import { api } from './api/client'
import type { Me } from './api/types'
import { interceptLinks, navigate, usePath } from './router'
import { SignIn } from './pages/SignIn'
import { WorkflowList } from './pages/WorkflowList'
import { CanvasPage } from './pages/Canvas'

// Screens other than the list and the canvas load on first visit (the canvas's bundle stays smaller).
const Gallery = lazy(() => import('./templates/Gallery').then((m) => ({ default: m.Gallery })))
const Outbox = lazy(() => import('./outbox/Outbox').then((m) => ({ default: m.Outbox })))
const loading = <div className="loading-screen">Loading…</div>

export function App() {
  const path = usePath()
  const [me, setMe] = useState<Me | null | undefined>(undefined)

  const refresh = useCallback(() => api.me().then(setMe).catch(() => setMe(null)), [])
  useEffect(() => { refresh() }, [refresh])
  useEffect(() => {
    document.addEventListener('click', interceptLinks)
    const out = () => setMe(null)
    window.addEventListener('maily:unauthorized', out)
    return () => { document.removeEventListener('click', interceptLinks); window.removeEventListener('maily:unauthorized', out) }
  }, [])

  if (me === undefined) return <div className="loading-screen">Loading…</div>
  if (me === null) return <SignIn onSignedIn={(m) => { setMe(m); if (path === '/signin') navigate('/', true) }} />
  const signOut = () => api.logout().finally(() => { setMe(null); navigate('/signin') })
  const m = /^\/workflows\/([^/]+)/.exec(path)
  if (m) return <CanvasPage id={m[1]} me={me} />
  if (path === '/templates') return <Suspense fallback={loading}><Gallery me={me} /></Suspense>
  const out = /^\/outbox(?:\/([^/]+))?\/?$/.exec(path)
  if (out) return <Suspense fallback={loading}><Outbox me={me} messageId={out[1] ?? null} /></Suspense>
  return <WorkflowList me={me} onSignOut={signOut} />
}
