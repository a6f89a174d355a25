// A callback whose identity never changes but which always runs the latest closure passed in: for props of
// memo'd children (the palette) that would otherwise re-render with every render of the canvas.
import { useCallback, useRef } from 'react'

export function useStableCallback<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const latest = useRef(fn)
  latest.current = fn
  return useCallback((...args: A) => latest.current(...args), [])
}
