// A text field's own text while focused, so remote/doc updates never move the caret.
import { useEffect, useRef, useState } from 'react'

export function useDraft(value: string) {
  const [draft, setDraft] = useState(value)
  const focused = useRef(false)
  useEffect(() => { if (!focused.current) setDraft(value) }, [value])
  return {
    draft, setDraft,
    onFocus: () => { focused.current = true },
    onBlur: () => { focused.current = false; setDraft(value) },
  }
}
