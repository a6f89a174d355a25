// The next five fire times of the cron being typed, from the server (the cron code that fires them);
// asked again a moment after the typing stops, so each keystroke is not a request.
import { useEffect, useState } from 'react'
import { refusalOf, type Refusal } from '../teams/problem'
import { triggersApi } from './api'

const QUIET_MS = 250

export function useCronPreview(workflowId: string, cron: string, timezone: string) {
  const [times, setTimes] = useState<string[] | null>(null)
  const [refusal, setRefusal] = useState<Refusal | null>(null)
  useEffect(() => {
    let live = true
    const t = setTimeout(() => {
      triggersApi.preview(workflowId, cron, timezone).then(
        (p) => { if (live) { setTimes(p.next_runs); setRefusal(null) } },
        (e) => { if (live) { setTimes(null); setRefusal(refusalOf(e)) } })
    }, QUIET_MS)
    return () => { live = false; clearTimeout(t) }
  }, [workflowId, cron, timezone])
  return { times, refusal }
}
