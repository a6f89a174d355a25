// "Connect" for an OAuth2 credential with the authorization-code grant, and what came of it.
import type { Credential } from './api'
import { useOAuthConnect } from './useOAuthConnect'

export const connectable = (c: Credential) => c.type === 'oauth2' && c.fields?.grant_type === 'authorization_code'

export function ConnectButton({ credential, onConnected }: { credential: Credential; onConnected: () => void }) {
  const { state, connect } = useOAuthConnect(credential.id, onConnected)
  const connected = state.status === 'connected' || (state.status === 'idle' && credential.fields?.connected === true)
  return (
    <span className="connect">
      <button type="button" className="btn small" onClick={connect} disabled={state.status === 'waiting'}
        aria-label={`${connected ? 'Reconnect' : 'Connect'} ${credential.name}`} data-testid={`credential-connect-${credential.name}`}>
        {state.status === 'waiting' ? 'Waiting for the provider…' : connected ? 'Reconnect' : 'Connect'}
      </button>
      <span role="status" className="small" data-testid={`credential-connection-${credential.name}`} data-state={connected ? 'connected' : state.status}>
        {connected && <span className="pill state-succeeded">connected</span>}
        {state.status === 'failed' && <span className="problem-inline">{state.message}</span>}
      </span>
    </span>
  )
}
