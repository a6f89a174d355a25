// After a row is removed (its button gone with it), the focus goes to the section's heading
// instead of falling back to the page: a keyboard user goes on from the same table.
import { useCallback, useRef } from 'react'

export function useHeadingFocus() {
  const ref = useRef<HTMLHeadingElement>(null)
  const focus = useCallback(() => ref.current?.focus(), [])
  return { ref, focus, tabIndex: -1 } as const
}
