// A tiny history router: /signin, / (workflow list), /workflows/<id> (canvas).
import { useEffect, useState } from 'react'

export function navigate(path: string, replace = false) {
  if (replace) window.history.replaceState(null, '', path)
  else window.history.pushState(null, '', path)
  window.dispatchEvent(new PopStateEvent('popstate'))
}

export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname)
  useEffect(() => {
    const on = () => setPath(window.location.pathname)
    window.addEventListener('popstate', on)
    return () => window.removeEventListener('popstate', on)
  }, [])
  return path
}

/** Same-origin links go through the router instead of reloading the page. */
export function interceptLinks(e: MouseEvent) {
  const a = (e.target as HTMLElement).closest?.('a')
  if (!a || a.target || e.ctrlKey || e.metaKey || e.shiftKey || a.origin !== window.location.origin) return
  e.preventDefault()
  navigate(a.pathname)
}
