// /workflows/<id>/runs/<run id> (the run explorer's Open): the canvas opens with that run painted on it.
import { useEffect } from 'react'

const RUN_PATH = /^\/workflows\/[^/]+\/runs\/([0-9a-f]{32})\/?$/

export function useRunFromPath(show: (id: string, live?: boolean) => void) {
  useEffect(() => {
    const m = RUN_PATH.exec(window.location.pathname)
    if (m) show(m[1], false)
  }, [show])
}
