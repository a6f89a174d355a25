// The colour theme: follows the system setting (prefers-color-scheme) unless the person picked light or dark
// (kept in localStorage). Applied as <html data-theme="light|dark"> before the first render, so there is no flash.
import { useEffect, useState } from 'react'

export type ThemeChoice = 'system' | 'light' | 'dark'
const KEY = 'maily:theme'
const query = () => window.matchMedia('(prefers-color-scheme: dark)')

export const readChoice = (): ThemeChoice => {
  const v = localStorage.getItem(KEY)
  return v === 'light' || v === 'dark' ? v : 'system'
}
export const effective = (c: ThemeChoice): 'light' | 'dark' => c === 'system' ? (query().matches ? 'dark' : 'light') : c

export function applyTheme(c: ThemeChoice = readChoice()) {
  document.documentElement.dataset.theme = effective(c)
}

/** At start: apply the theme, and again whenever the system setting changes (it counts while the choice is "system"). */
export function followTheme() {
  applyTheme()
  query().addEventListener('change', () => applyTheme())
}

export function useTheme(): [ThemeChoice, (c: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(readChoice)
  useEffect(() => { applyTheme(choice) }, [choice])
  const set = (c: ThemeChoice) => {
    if (c === 'system') localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, c)
    setChoice(c)
  }
  return [choice, set]
}
