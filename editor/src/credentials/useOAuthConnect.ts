// The OAuth2 connect flow: POST .../oauth/start gives the provider's authorize URL, opened in a popup;
// /oauth/callback (our origin) posts {type: "maily-oauth", credential_id, ok, error} to this window
// and closes itself; it says the same on a BroadcastChannel, which still reaches us when the provider's
// Cross-Origin-Opener-Policy cut the popup off from this window. A message from any other origin, or
// for another credential, is ignored.
import { useCallback, useEffect, useRef, useState } from 'react'
import { refusalOf } from '../teams/problem'
import { credentialsApi } from './api'

export type ConnectState = { status: 'idle' } | { status: 'waiting' } | { status: 'connected' } | { status: 'failed'; message: string }

interface OAuthMessage { type: string; credential_id: string; ok: boolean; error?: string | null }

export function useOAuthConnect(credentialId: string, onDone: () => void) {
  const [state, setState] = useState<ConnectState>({ status: 'idle' })
  const done = useRef(onDone)
  done.current = onDone
  useEffect(() => {
    if (state.status !== 'waiting') return
    const on = (e: MessageEvent) => {
      const m = e.data as OAuthMessage | null
      if (e.origin !== window.location.origin || !m || m.type !== 'maily-oauth' || m.credential_id !== credentialId) return
      setState(m.ok ? { status: 'connected' } : { status: 'failed', message: m.error || 'the provider refused the connection' })
      done.current()
    }
    window.addEventListener('message', on)
    const channel = 'BroadcastChannel' in window ? new BroadcastChannel('maily-oauth') : null
    channel?.addEventListener('message', on)
    return () => { window.removeEventListener('message', on); channel?.close() }
  }, [state.status, credentialId])

  const connect = useCallback(async () => {
    // The popup opens inside the click (a blocker allows that), then goes to the provider.
    const popup = window.open('', 'maily-oauth', 'popup,width=560,height=720')
    setState({ status: 'waiting' })
    try {
      const { authorize_url } = await credentialsApi.oauthStart(credentialId)
      if (popup) popup.location.href = authorize_url
      else window.open(authorize_url, 'maily-oauth', 'popup,width=560,height=720')
    } catch (err) {
      popup?.close()
      setState({ status: 'failed', message: refusalOf(err).detail })
    }
  }, [credentialId])
  return { state, connect }
}
