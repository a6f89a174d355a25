// Pinned data in the editor: what a pin must be, as flows/pins.py checks it on the server.
import type { Port } from '../api/types'

export type Pin = Record<string, unknown>
export const MAX_PIN_BYTES = 64 * 1024

const matches = (type: string, v: unknown) =>
  type === 'any' || (type === 'object' ? !!v && typeof v === 'object' && !Array.isArray(v)
    : type === 'array' ? Array.isArray(v) : type === 'number' ? typeof v === 'number' : typeof v === type)

/** The pin parsed from text, or the reason it cannot be one (a port it lacks, a value of the wrong type...). */
export function parsePin(text: string, outputs: Port[]): { pin: Pin } | { error: string } {
  let value: unknown
  try { value = JSON.parse(text) } catch (e) { return { error: `not JSON: ${(e as Error).message}` } }
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.keys(value).length) {
    return { error: `a pin is an object of output port to value, e.g. {"${outputs[0]?.name ?? 'output'}": {...}}` }
  }
  const size = new TextEncoder().encode(JSON.stringify(value)).length
  if (size > MAX_PIN_BYTES) return { error: `a pin may hold at most 64 KB of JSON, not ${size.toLocaleString()} bytes` }
  for (const [name, v] of Object.entries(value)) {
    const port = outputs.find((p) => p.name === name)
    if (!port) return { error: `there is no output port "${name}"; its ports: ${outputs.map((p) => p.name).join(', ')}` }
    if (!matches(port.type, v)) return { error: `port "${name}" carries ${port.type}` }
  }
  return { pin: value as Pin }
}
