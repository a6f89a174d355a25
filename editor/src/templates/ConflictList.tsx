// The conflicts of a template update: where the draft and the new template version changed the
// same field differently. One row per conflict (node or edge id, field, my value, the template's
// value) with a choice: keep mine (the default) or take the template's. The choices go to the
// merge endpoint, which applies them in the same collaborative edit as the rest of the update.
import type { Conflict } from './api'

export type Choice = 'mine' | 'theirs'

const show = (v: unknown) => (v === null || v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v))
const cell = { padding: '3px 6px', verticalAlign: 'top', maxWidth: 220, overflowWrap: 'anywhere' } as const

export function ConflictList({ conflicts, choices, onChoose }: {
  conflicts: Conflict[]; choices: Record<string, Choice>; onChoose?: (pointer: string, choice: Choice) => void
}) {
  const rows = conflicts.filter((c) => c.choosable !== false)
  if (!rows.length) return null
  return (
    <table className="small" data-testid="template-conflicts" style={{ borderCollapse: 'collapse', margin: '6px 0' }}>
      <thead><tr>
        <th style={cell}>{rows.some((c) => c.element !== 'node') ? 'element' : 'node'}</th>
        <th style={cell}>field</th><th style={cell}>mine</th><th style={cell}>template’s</th><th style={cell}>keep</th>
      </tr></thead>
      <tbody>
        {rows.map((c, i) => {
          const choice = choices[c.pointer] ?? 'mine'
          return (
            <tr key={c.pointer} data-testid={`template-conflict-${i}`} data-pointer={c.pointer} data-choice={choice}>
              <td style={cell} className="mono">{c.element && c.element !== 'node' ? `${c.element} ` : ''}{c.id ?? ''}</td>
              <td style={cell} className="mono">{c.field || '(whole)'}</td>
              <td style={cell} className="mono" data-testid={`template-conflict-${i}-ours`}>{show(c.ours)}</td>
              <td style={cell} className="mono" data-testid={`template-conflict-${i}-theirs-value`}>{show(c.theirs)}</td>
              <td style={{ ...cell, whiteSpace: 'nowrap' }}>
                <label><input type="radio" name={`conflict-${i}`} checked={choice === 'mine'} disabled={!onChoose}
                  onChange={() => onChoose?.(c.pointer, 'mine')} data-testid={`template-conflict-${i}-mine`} /> mine</label>{' '}
                <label><input type="radio" name={`conflict-${i}`} checked={choice === 'theirs'} disabled={!onChoose}
                  onChange={() => onChoose?.(c.pointer, 'theirs')} data-testid={`template-conflict-${i}-theirs`} /> template’s</label>
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
