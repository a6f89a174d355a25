// A modal dialog's keyboard: focus moves into it when it opens, Tab and Shift+Tab cycle inside it,
// Escape closes it, and on close the focus returns to where it was. Keys pressed inside never reach
// the canvas shortcuts (Delete, N, F... would act on the graph behind the dialog).
import { useCallback, useEffect, useRef, type KeyboardEvent } from 'react'

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

export function useFocusTrap<T extends HTMLElement>(onEscape: () => void) {
  const ref = useRef<T>(null)
  const escape = useRef(onEscape)
  escape.current = onEscape
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null
    const first = ref.current?.querySelector<HTMLElement>(FOCUSABLE)
    ;(first ?? ref.current)?.focus()
    return () => { if (before && document.contains(before)) before.focus() }
  }, [])
  const onKeyDown = useCallback((e: KeyboardEvent) => {
    e.stopPropagation()
    if (e.key === 'Escape') { e.preventDefault(); escape.current(); return }
    if (e.key !== 'Tab' || !ref.current) return
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null)
    if (!items.length) { e.preventDefault(); return }
    const first = items[0], last = items[items.length - 1]
    if (e.shiftKey && (document.activeElement === first || !ref.current.contains(document.activeElement))) { e.preventDefault(); last.focus() }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus() }
  }, [])
  return { ref, onKeyDown }
}
