// Over the canvas when a live socket was closed with 4401 (removed from the workspace, session revoked).
import { useEffect, useRef } from 'react'
import { useSignedOut } from './useSignedOut'

export function SignedOutOverlay() {
  const out = useSignedOut()
  const link = useRef<HTMLAnchorElement>(null)
  useEffect(() => { if (out) link.current?.focus() }, [out])
  if (!out) return null
  return (
    <div className="signed-out-overlay" role="alertdialog" aria-modal="true" aria-labelledby="signed-out-title" data-testid="signed-out">
      <div className="signed-out-card">
        <h2 id="signed-out-title">You have been signed out</h2>
        <p className="muted">Your session or your membership of this workspace ended. Changes from now on are not saved.</p>
        {/* a full load: the app starts over from GET /api/auth/me */}
        <a ref={link} className="btn primary" href="/signin" target="_self" data-testid="signed-out-signin"
          onClick={(e) => { e.preventDefault(); window.location.assign('/signin') }}>Sign in</a>
      </div>
    </div>
  )
}
