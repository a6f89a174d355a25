// A text field that accepts {{ expressions }}: a data field dropped on it becomes its expression, typing inside
// {{ }} offers completions (a combobox: arrows, Enter or Tab, Escape), and a live preview rendered on the server
// shows the value, or the sandbox's error, under it.
import { useEffect, useId, useRef, useState, type DragEvent, type KeyboardEvent } from 'react'
import type { Preview } from '../api/types'
import { openExpression, suggest, type Suggestion } from '../panel/completions'
import { EXPRESSION_MIME, type ExpressionTools } from './expressions'
import type { TextProps } from './inputs'
import { useDraft } from './useDraft'

const PREVIEW_DELAY_MS = 300
const hasExpression = (t: string) => t.includes('{{') || t.includes('{%')

function usePreview(text: string, tools: ExpressionTools) {
  const [result, setResult] = useState<Preview | 'pending' | null>(null)
  useEffect(() => {
    if (!hasExpression(text)) { setResult(null); return }
    setResult('pending')
    let live = true
    const t = setTimeout(() => {
      tools.preview(text).then((r) => live && setResult(r))
        .catch((e: Error) => live && setResult({ ok: false, value: null, type: 'null', truncated: false, error: e.message, run_id: null }))
    }, PREVIEW_DELAY_MS)
    return () => { live = false; clearTimeout(t) }
  }, [text]) // eslint-disable-line react-hooks/exhaustive-deps
  return result
}

const shown = (v: unknown) => { const s = typeof v === 'string' ? v : JSON.stringify(v); return s.length > 400 ? s.slice(0, 400) + '…' : s }

export function ExpressionInput({ tools, ...p }: TextProps & { tools: ExpressionTools }) {
  const d = useDraft(p.value)
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null)
  const [menu, setMenu] = useState<{ items: Suggestion[]; replace: number; active: number } | null>(null)
  const [dropping, setDropping] = useState(false)
  const uid = useId()
  const listId = `${uid}-list`
  const preview = usePreview(d.draft, tools)

  const set = (text: string, caret?: number) => {
    d.setDraft(text)
    p.onCommit(text)
    if (caret !== undefined) requestAnimationFrame(() => ref.current?.setSelectionRange(caret, caret))
  }
  const refresh = (text: string, caret: number) => {
    const expr = openExpression(text, caret)
    const s = expr === null ? null : suggest(expr, tools.scope)
    setMenu(s && s.items.length ? { ...s, active: 0 } : null)
  }
  const accept = (s: Suggestion) => {
    const el = ref.current
    const caret = el?.selectionStart ?? d.draft.length
    const start = caret - (menu?.replace ?? 0)
    set(d.draft.slice(0, start) + s.insert + d.draft.slice(caret), start + s.insert.length)
    setMenu(null)
  }
  /** A field's expression, dropped or clicked: the field's whole value when empty, else at the caret. */
  const insert = (expression: string) => {
    const el = ref.current
    const text = el?.value ?? d.draft
    if (!text.trim()) return set(expression, expression.length)
    const from = el?.selectionStart ?? text.length, to = el?.selectionEnd ?? text.length
    set(text.slice(0, from) + expression + text.slice(to), from + expression.length)
  }
  const onKeyDown = (e: KeyboardEvent) => {
    if (!menu) return
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault()
      const n = menu.items.length
      setMenu({ ...menu, active: (menu.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n })
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault(); accept(menu.items[menu.active])
    } else if (e.key === 'Escape') {
      e.preventDefault(); e.stopPropagation(); setMenu(null)
    }
  }
  const onDragOver = (e: DragEvent) => {
    if (p.disabled || !e.dataTransfer.types.includes(EXPRESSION_MIME)) return
    e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; setDropping(true)
  }
  const onDrop = (e: DragEvent) => {
    setDropping(false)
    const expression = e.dataTransfer.getData(EXPRESSION_MIME)
    if (p.disabled || !expression) return
    e.preventDefault()
    insert(expression)
  }
  const active = menu ? `${uid}-opt-${menu.active}` : undefined
  const props = {
    ref, value: d.draft, placeholder: p.placeholder, disabled: p.disabled, 'data-testid': p.testId,
    'aria-invalid': p.invalid || undefined, 'aria-labelledby': p.labelledBy, 'aria-label': p.label,
    role: 'combobox', 'aria-autocomplete': 'list' as const, 'aria-expanded': !!menu,
    'aria-controls': menu ? listId : undefined, 'aria-activedescendant': active,
    className: `input${p.mono ? ' mono' : ''}${p.invalid ? ' invalid' : ''}${dropping ? ' drop-target' : ''}`,
    onFocus: () => { d.onFocus(); tools.lastField.current = insert },
    onBlur: () => { d.onBlur(); setMenu(null) },
    onChange: (e: { target: { value: string; selectionStart: number | null } }) => {
      set(e.target.value); refresh(e.target.value, e.target.selectionStart ?? e.target.value.length)
    },
    onKeyDown, onDragOver, onDragLeave: () => setDropping(false), onDrop,
  }
  const multiline = p.multiline || p.value.includes('\n')
  return (
    <div className="expr-field">
      {multiline ? <textarea rows={Math.min(12, Math.max(3, d.draft.split('\n').length))} {...props} /> : <input type="text" {...props} />}
      {menu && (
        <ul className="expr-menu" role="listbox" id={listId} aria-label="Completions" data-testid={p.testId ? `${p.testId}-suggestions` : undefined}>
          {menu.items.map((s, i) => (
            <li key={s.label} id={`${uid}-opt-${i}`} role="option" aria-selected={i === menu.active} className={i === menu.active ? 'on' : ''}
              onMouseDown={(e) => { e.preventDefault(); accept(s) }}>
              <span className="mono">{s.label}</span><span className="muted small">{s.detail}</span>
            </li>
          ))}
        </ul>
      )}
      {preview && (
        <div className={`expr-preview${preview !== 'pending' && !preview.ok ? ' error' : ''}`} role="status" aria-live="polite"
          data-testid={p.testId ? `${p.testId}-preview` : undefined}
          data-status={preview === 'pending' ? 'pending' : preview.ok ? 'ok' : 'error'}>
          {preview === 'pending' ? 'Rendering…' : preview.ok
            ? <><span className="muted small">{preview.type}{preview.truncated ? ', truncated' : ''}{preview.run_id ? '' : ' (no run yet: pins only)'} → </span><span className="mono">{shown(preview.value)}</span></>
            : preview.error}
        </div>
      )}
    </div>
  )
}
