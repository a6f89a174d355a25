// Data a screen reads on mount (and again after each change it makes).
import { useCallback, useEffect, useState } from 'react'
import { refusalOf, type Refusal } from './problem'

export function useLoad<T>(load: () => Promise<T>) {
  const [data, setData] = useState<T | null>(null)
  const [refusal, setRefusal] = useState<Refusal | null>(null)
  const reload = useCallback(() => load().then((d) => { setData(d); setRefusal(null) }, (e) => setRefusal(refusalOf(e))),
    [load])
  useEffect(() => { reload() }, [reload])
  return { data, refusal, reload }
}
