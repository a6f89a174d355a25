// The vault's types and their fields (GET /api/credentials/types), read once per page load: they
// change only with the server's code.
import { useEffect, useState } from 'react'
import { credentialsApi, type CredentialType } from './api'

let cached: Promise<CredentialType[]> | null = null

export function useCredentialTypes(): CredentialType[] | null {
  const [types, setTypes] = useState<CredentialType[] | null>(null)
  useEffect(() => {
    let live = true
    cached ??= credentialsApi.types().catch((e) => { cached = null; throw e })
    cached.then((t) => { if (live) setTypes(t) }, () => { if (live) setTypes([]) })
    return () => { live = false }
  }, [])
  return types
}
