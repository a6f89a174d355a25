// A modal dialog: role="dialog", aria-modal, named by its title, focus kept inside (Tab cycles), Escape or a
// click on the backdrop closes it, and the focus goes back where it was (useFocusTrap).
import { useId, type ReactNode } from 'react'
import { useFocusTrap } from './useFocusTrap'

interface Props {
  title: ReactNode
  onClose: () => void
  children: ReactNode
  testId?: string
  wide?: boolean
}

export function Dialog({ title, onClose, children, testId, wide }: Props) {
  const trap = useFocusTrap<HTMLDivElement>(onClose)
  const titleId = useId()
  return (
    <div className="modal-backdrop" onMouseDown={onClose}>
      <div className={`modal${wide ? ' wide' : ''}`} role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1}
        ref={trap.ref} onKeyDown={trap.onKeyDown} onMouseDown={(e) => e.stopPropagation()} data-testid={testId}>
        <h3 id={titleId}>{title}</h3>
        {children}
      </div>
    </div>
  )
}
