// Keyboard shortcuts (press ?).
import { Dialog } from '../ui/Dialog'

export const SHORTCUTS: [string, string][] = [
  ['Drag from the palette', 'Add a node (or click it to add in the middle)'],
  ['Drag from an output port to an input port', 'Connect (types must match; any matches all)'],
  ['Click / Shift+click / Shift+drag', 'Select / add to selection / box select'],
  ['Delete or Backspace', 'Delete the selection (a node takes its edges along)'],
  ['Ctrl+C / Ctrl+X / Ctrl+V', 'Copy / cut / paste (graph JSON on the clipboard, works across workflows)'],
  ['Ctrl+D', 'Duplicate the selection'],
  ['Ctrl+Z / Ctrl+Shift+Z or Ctrl+Y', 'Undo / redo your own changes'],
  ['Tab, then Enter or Space', 'Focus a node, select it and open its panel'],
  ['C', 'Connect the selected node (choose ports and target node)'],
  ['Ctrl+A', 'Select all'],
  ['Shift+L', 'Auto-layout'],
  ['Shift+1 or F', 'Zoom to fit'],
  ['N', 'Add a sticky note'],
  ['Ctrl+Enter', 'Run'],
  ['Esc', 'Close panels, clear the selection'],
  ['?', 'This help'],
]

export function HelpPanel({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose} testId="help-panel">
        <table className="shortcuts"><tbody>
          {SHORTCUTS.map(([k, v], i) => <tr key={k}><td>{i < 3 ? <span className="gesture">{k}</span> : k.split(' / ').map((x, j) => <span key={j}>{j > 0 && ' / '}<kbd>{x}</kbd></span>)}</td><td>{v}</td></tr>)}
        </tbody></table>
        <div className="modal-actions"><button className="btn" onClick={onClose} data-testid="help-close">Close</button></div>
    </Dialog>
  )
}
