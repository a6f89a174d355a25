// Canvas keyboard shortcuts and the clipboard (graph JSON, so copy/paste works across workflows and tabs).
import { useEffect, useRef } from 'react'

export interface ShortcutHandlers {
  undo(): void; redo(): void; remove(): void; selectAll(): void; duplicate(): void
  layout(): void; fit(): void; note(): void; run(): void; help(): void; escape(): void
  connect(): void // connect the selected node's ports from the keyboard (ConnectDialog)
  copy(): string | null // graph JSON of the selection, or null when nothing is selected
  cut(): void
  paste(text: string): void
}

const STORE = 'maily:clipboard'
const typing = (t: EventTarget | null) =>
  t instanceof HTMLElement && !!t.closest('input, textarea, select, [contenteditable="true"]')

export function useShortcuts(h: ShortcutHandlers, enabled: boolean) {
  const ref = useRef(h)
  ref.current = h
  useEffect(() => {
    if (!enabled) return
    let pasteTimer = 0
    let cutTimer = 0
    const onKey = (e: KeyboardEvent) => {
      const k = ref.current
      if (e.key === 'Escape') return k.escape()
      if (typing(e.target)) return
      const mod = e.ctrlKey || e.metaKey
      const key = e.key.toLowerCase()
      const hit = (fn: () => void) => { e.preventDefault(); fn() }
      if (mod && key === 'z') return hit(e.shiftKey ? k.redo : k.undo)
      if (mod && key === 'y') return hit(k.redo)
      if (mod && key === 'a') return hit(k.selectAll)
      if (mod && key === 'd') return hit(k.duplicate)
      if (mod && key === 'enter') return hit(k.run)
      if (mod && key === 'c') { const t = k.copy(); if (t) localStorage.setItem(STORE, t); return }
      if (mod && key === 'x') {
        const t = k.copy()
        if (t) { localStorage.setItem(STORE, t); cutTimer = window.setTimeout(() => k.cut(), 80) }
        return
      }
      if (mod && key === 'v') {
        // The paste event brings the system clipboard; without one (no focus, no permission) use our copy.
        pasteTimer = window.setTimeout(() => { const t = localStorage.getItem(STORE); if (t) k.paste(t) }, 80)
        return
      }
      if (mod || e.altKey) return
      if (e.key === 'Delete' || e.key === 'Backspace') return hit(k.remove)
      if (e.key === '?') return hit(k.help)
      if (e.shiftKey && key === 'l') return hit(k.layout)
      if (e.key === '!' || (e.shiftKey && e.code === 'Digit1') || key === 'f') return hit(k.fit)
      if (key === 'n' && !e.shiftKey) return hit(k.note)
      if (key === 'c' && !e.shiftKey) return hit(k.connect)
    }
    const onCopy = (e: ClipboardEvent, cut: boolean) => {
      if (typing(e.target)) return
      clearTimeout(cutTimer)
      const t = ref.current.copy()
      if (!t) return
      e.clipboardData?.setData('text/plain', t)
      localStorage.setItem(STORE, t)
      e.preventDefault()
      if (cut) ref.current.cut()
    }
    const copy = (e: ClipboardEvent) => onCopy(e, false)
    const cut = (e: ClipboardEvent) => onCopy(e, true)
    const paste = (e: ClipboardEvent) => {
      if (typing(e.target)) return
      clearTimeout(pasteTimer)
      const t = e.clipboardData?.getData('text/plain') || localStorage.getItem(STORE)
      if (t) { e.preventDefault(); ref.current.paste(t) }
    }
    window.addEventListener('keydown', onKey)
    document.addEventListener('copy', copy)
    document.addEventListener('cut', cut)
    document.addEventListener('paste', paste)
    return () => {
      clearTimeout(pasteTimer)
      clearTimeout(cutTimer)
      window.removeEventListener('keydown', onKey)
      document.removeEventListener('copy', copy)
      document.removeEventListener('cut', cut)
      document.removeEventListener('paste', paste)
    }
  }, [enabled])
}
