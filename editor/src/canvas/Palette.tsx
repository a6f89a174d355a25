// The node catalogue: search, categories, drag onto the canvas (or click to add in the middle).
import { memo, useMemo, useState } from 'react'
import type { NodeType } from '../api/types'
import { Icon, categoryColor } from './icons'

export const DRAG_MIME = 'application/x-maily-node-type'
const ORDER = ['trigger', 'data', 'logic', 'ai', 'http', 'email', 'util']

/** An entry is a button for the keyboard too: Tab reaches it, Enter or Space adds it (the list
 *  scrolls, and a scrolling region needs something focusable in it). */
function pressable(disabled: boolean, add: () => void) {
  return {
    role: 'button', tabIndex: 0, 'aria-disabled': disabled || undefined,
    onClick: () => { if (!disabled) add() },
    onKeyDown: (e: React.KeyboardEvent) => {
      if (e.key !== 'Enter' && e.key !== ' ') return
      e.preventDefault()
      if (!disabled) add()
    },
  } as const
}

function PaletteView({ types, disabled, onAdd, onAddNote }: {
  types: NodeType[]; disabled: boolean; onAdd: (t: NodeType) => void; onAddNote: () => void
}) {
  const [q, setQ] = useState('')
  const groups = useMemo(() => {
    const s = q.trim().toLowerCase()
    const hit = types.filter((t) => !s || `${t.title} ${t.type} ${t.description} ${t.category}`.toLowerCase().includes(s))
    const by = new Map<string, NodeType[]>()
    for (const t of hit) by.set(t.category, [...(by.get(t.category) ?? []), t])
    const rank = (c: string) => (ORDER.includes(c) ? ORDER.indexOf(c) : 99)
    return [...by.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]))
  }, [types, q])

  return (
    <aside className="palette" data-testid="palette">
      <div className="palette-search">
        <Icon name="search" size={14} />
        <input placeholder="Search nodes" aria-label="Search nodes" value={q} onChange={(e) => setQ(e.target.value)} data-testid="palette-search" />
      </div>
      <div className="palette-list" role="group" aria-label="Nodes: Enter adds one in the middle, or drag it onto the canvas">
        {groups.map(([cat, list]) => (
          <section key={cat} data-testid={`palette-category-${cat}`}>
            <h4>{cat}</h4>
            {list.map((t) => (
              <div key={`${t.type}@${t.version}`} className={`palette-item${disabled ? ' disabled' : ''}`}
                data-testid={`palette-${t.type}`} draggable={!disabled} title={t.description}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, JSON.stringify({ type: t.type, version: t.version }))
                  e.dataTransfer.setData('text/plain', t.type)
                  e.dataTransfer.effectAllowed = 'move'
                }}
                {...pressable(disabled, () => onAdd(t))}>
                <span className="palette-icon" style={{ background: categoryColor(t.category) }}><Icon name={t.icon} size={14} /></span>
                <div>
                  <div className="palette-title">{t.title}</div>
                  <div className="palette-desc">{t.description}</div>
                </div>
              </div>
            ))}
          </section>
        ))}
        {groups.length === 0 && <p className="muted small pad">No node matches “{q}”.</p>}
        <section>
          <h4>canvas</h4>
          <div className={`palette-item${disabled ? ' disabled' : ''}`} data-testid="palette-note" {...pressable(disabled, onAddNote)}>
            <span className="palette-icon" style={{ background: '#ca8a04' }}><Icon name="note" size={14} /></span>
            <div><div className="palette-title">Sticky note</div><div className="palette-desc">A note for people; the engine ignores it</div></div>
          </div>
        </section>
      </div>
    </aside>
  )
}

// Memo'd: the canvas re-renders on every document change, validation and presence update; the palette need not.
export const Palette = memo(PaletteView)
