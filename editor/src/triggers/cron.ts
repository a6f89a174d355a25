// The cron helper's presets, and fire times written in the schedule's own time zone.
export type Preset = 'every15' | 'hourly' | 'daily' | 'weekdays' | 'custom'

export const PRESETS: { value: Preset; label: string }[] = [
  { value: 'every15', label: 'Every 15 minutes' },
  { value: 'hourly', label: 'Every hour' },
  { value: 'daily', label: 'Every day at…' },
  { value: 'weekdays', label: 'Weekdays (Mon–Fri) at…' },
  { value: 'custom', label: 'Custom cron expression' },
]

/** `time` is HH:MM (24 h). */
export function cronOf(preset: Preset, time: string, custom: string): string {
  const [h, m] = time.split(':').map((x) => String(Number(x) || 0))
  switch (preset) {
    case 'every15': return '*/15 * * * *'
    case 'hourly': return '0 * * * *'
    case 'daily': return `${m} ${h} * * *`
    case 'weekdays': return `${m} ${h} * * 1-5`
    default: return custom
  }
}

const pad = (n: string) => n.padStart(2, '0')

/** The preset (and time) a stored cron reads as, so editing opens on the helper it came from. */
export function presetOf(cron: string): { preset: Preset; time: string } {
  const c = cron.trim().split(/\s+/).join(' ')
  if (c === '*/15 * * * *') return { preset: 'every15', time: '09:00' }
  if (c === '0 * * * *' || c === '@hourly') return { preset: 'hourly', time: '09:00' }
  const m = /^(\d{1,2}) (\d{1,2}) \* \* (\*|1-5)$/.exec(c)
  if (m && Number(m[1]) < 60 && Number(m[2]) < 24) return { preset: m[3] === '*' ? 'daily' : 'weekdays', time: `${pad(m[2])}:${pad(m[1])}` }
  return { preset: 'custom', time: '09:00' }
}

export function describeCron(cron: string): string {
  const { preset, time } = presetOf(cron)
  if (preset === 'custom') return cron
  if (preset === 'daily' || preset === 'weekdays') return `${preset === 'daily' ? 'Every day' : 'Weekdays'} at ${time}`
  return PRESETS.find((p) => p.value === preset)!.label
}

export function fireTime(iso: string, timezone: string): string {
  const opts: Intl.DateTimeFormatOptions = { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
  try { return new Date(iso).toLocaleString('en-GB', { ...opts, timeZone: timezone }) } catch { return new Date(iso).toLocaleString('en-GB', opts) }
}

/** IANA names the browser knows, for the time zone picker (the server has the last word). */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] }
  const zones = intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : []
  return zones.includes('UTC') ? zones : ['UTC', ...zones]
}

export function browserZone(): string {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' } catch { return 'UTC' }
}
