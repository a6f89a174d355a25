// The workspace's credentials (names, types, public fields), shared by every picker on the page: a
// credential created from one picker appears in all of them. The first picker to mount reads the list
// afresh (one made on the settings screen since then is in it); the others share that read.
import { useCallback, useEffect, useState } from 'react'
import { credentialsApi, type Credential } from './api'

let current: Promise<Credential[]> | null = null
const listeners = new Set<(list: Credential[]) => void>()

function load(fresh: boolean): Promise<Credential[]> {
  if (fresh || !current) {
    current = credentialsApi.list()
    current.then((list) => listeners.forEach((l) => l(list)), () => { current = null })
  }
  return current
}

export function useCredentials() {
  const [list, setList] = useState<Credential[] | null>(null)
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    const first = listeners.size === 0
    listeners.add(setList)
    load(first).then(setList, () => setFailed(true))
    return () => { listeners.delete(setList) }
  }, [])
  const reload = useCallback(() => load(true).then(() => undefined, () => setFailed(true)), [])
  return { list, failed, reload }
}
