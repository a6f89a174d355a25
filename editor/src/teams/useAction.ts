// One form's submit: busy while it runs, the server's refusal (detail + field) when it fails.
import { useCallback, useState } from 'react'
import { refusalOf, type Refusal } from './problem'

export function useAction() {
  const [busy, setBusy] = useState(false)
  const [refusal, setRefusal] = useState<Refusal | null>(null)
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true); setRefusal(null)
    try { return await fn() }
    catch (err) { setRefusal(refusalOf(err)); return undefined }
    finally { setBusy(false) }
  }, [])
  return { busy, refusal, run, clear: () => setRefusal(null) }
}
