// A Triggers panel list: loaded on mount, again when a co-editor changed triggers (`stamp`) and after our own changes.
import { useEffect, useRef } from 'react'
import { useLoad } from '../teams/useLoad'

export function useTriggerList<T>(load: () => Promise<T>, stamp: number) {
  const list = useLoad(load)
  const first = useRef(true)
  useEffect(() => {
    if (first.current) { first.current = false; return }
    list.reload()
  }, [stamp]) // eslint-disable-line react-hooks/exhaustive-deps
  return list
}
