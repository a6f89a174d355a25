// What a config form's text fields need to be expression editors (the canvas's node panel provides it;
// other forms, such as a template's parameters, have none and keep plain text inputs).
import { createContext, useContext, type MutableRefObject } from 'react'
import type { Preview } from '../api/types'
import type { Scope } from '../panel/completions'

export interface ExpressionTools {
  scope: Scope
  /** Rendered on the server, in the runs' sandbox, against the last run and pins (debounced by the caller). */
  preview: (text: string) => Promise<Preview>
  /** Inserts into the expression field focused last: a click (or Enter) on a data field maps it there. */
  lastField: MutableRefObject<((expression: string) => void) | null>
}

export const ExpressionContext = createContext<ExpressionTools | null>(null)
export const useExpressionTools = () => useContext(ExpressionContext)

/** The MIME type a dragged data field carries its expression in (text/plain carries it too). */
export const EXPRESSION_MIME = 'application/x-maily-expression'
