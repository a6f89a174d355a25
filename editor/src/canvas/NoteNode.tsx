// A sticky note (the doc's `notes` map): editable text, colour, resizable. Ignored by the engine.
import { memo, useEffect, useState } from 'react'
import { NodeResizer, type Node, type NodeProps } from '@xyflow/react'
import type { StickyNote } from '../api/types'
import { useCanvas } from './context'

export type NoteNodeT = Node<{ note: StickyNote }, 'note'>
const COLORS = ['yellow', 'blue', 'green', 'pink', 'gray']

function NoteView({ data, selected }: NodeProps<NoteNodeT>) {
  const { ops, readOnly } = useCanvas()
  const { note } = data
  const [text, setText] = useState(note.text)
  const [focused, setFocused] = useState(false)
  useEffect(() => { if (!focused) setText(note.text) }, [note.text, focused])
  return (
    <div className={`sticky-note note-${note.color}${selected ? ' selected' : ''}`} data-testid={`note-${note.id}`}>
      <NodeResizer isVisible={selected && !readOnly} minWidth={80} minHeight={60} />
      <textarea className="nodrag nowheel" value={text} placeholder="Write a note…" aria-label="Sticky note" disabled={readOnly}
        data-testid={`note-text-${note.id}`}
        onFocus={() => setFocused(true)} onBlur={() => setFocused(false)}
        onChange={(e) => { setText(e.target.value); ops?.updateNote(note.id, { text: e.target.value }) }} />
      {selected && !readOnly && (
        <div className="note-colors nodrag">
          {COLORS.map((c) => (
            <button key={c} className={`swatch note-${c}${c === note.color ? ' on' : ''}`} title={c}
              onClick={() => ops?.updateNote(note.id, { color: c })} />
          ))}
        </div>
      )}
    </div>
  )
}

export const NoteNode = memo(NoteView)
