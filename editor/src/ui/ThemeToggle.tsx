// One button cycling the colour theme: follow the system, light, dark.
import { Icon } from '../canvas/icons'
import { effective, useTheme, type ThemeChoice } from './theme'

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' }
const SAYS: Record<ThemeChoice, string> = { system: 'follows the system', light: 'light', dark: 'dark' }

export function ThemeToggle() {
  const [choice, setChoice] = useTheme()
  const label = `Theme: ${SAYS[choice]}${choice === 'system' ? ` (${effective('system')})` : ''}. Switch to ${SAYS[NEXT[choice]]}`
  return (
    <button type="button" className="icon-btn" onClick={() => setChoice(NEXT[choice])} aria-label={label} title={label}
      data-testid="theme-toggle" data-theme-choice={choice}>
      <Icon name={effective(choice) === 'dark' ? 'moon' : 'sun'} />
    </button>
  )
}
