import { useCallback, useEffect, useState } from 'react'
import { api } from './api/client'
import type { Me } from './api/types'
import { interceptLinks, navigate, usePath } from './router'
import { SignIn } from './pages/SignIn'
import { WorkflowList } from './pages/WorkflowList'
import { CanvasPage } from './pages/Canvas'
import { Gallery } from './templates/Gallery'

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
  if (path === '/templates') return <Gallery me={me} />
  return <WorkflowList me={me} onSignOut={signOut} />
}
