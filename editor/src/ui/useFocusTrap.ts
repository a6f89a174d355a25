// A modal dialog's keyboard: focus moves into it when it opens, Tab and Shift+Tab cycle inside it,
// Escape closes it, and on close the focus returns to where it was. Keys pressed inside never reach
// the canvas shortcuts (Delete, N, F... would act on the graph behind the dialog); Escape and Tab are
// caught on the document first, so they work even when the focused button has just gone.
import { useCallback, useEffect, useRef, type KeyboardEvent } from 'react'

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

export function useFocusTrap<T extends HTMLElement>(onEscape: () => void) {
  const ref = useRef<T>(null)
  const escape = useRef(onEscape)
  escape.current = onEscape
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null
    const box = () => ref.current
    ;(box()?.querySelector<HTMLElement>(FOCUSABLE) ?? box())?.focus()
    const onKey = (e: globalThis.KeyboardEvent) => {
      const el = box()
      if (!el || (e.key !== 'Escape' && e.key !== 'Tab')) return
      e.stopPropagation()
      e.preventDefault()
      if (e.key === 'Escape') return escape.current()
      const items = [...el.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((x) => x.offsetParent !== null)
      if (!items.length) return el.focus()
      const at = items.indexOf(document.activeElement as HTMLElement)
      const next = at < 0 ? (e.shiftKey ? items.length - 1 : 0) : (at + (e.shiftKey ? -1 : 1) + items.length) % items.length
      items[next].focus()
    }
    document.addEventListener('keydown', onKey, true)
    return () => {
      document.removeEventListener('keydown', onKey, true)
      if (before && document.contains(before)) before.focus()
    }
  }, [])
  // Any other key pressed inside stays inside (React's listener sits below the document's).
  const onKeyDown = useCallback((e: KeyboardEvent) => e.stopPropagation(), [])
  return { ref, onKeyDown }
}
