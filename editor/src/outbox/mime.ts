// Reading a raw MIME message (RFC 5322 + 2045-2047) for the Outbox: headers with encoded words decoded,
// and the first text/plain and text/html parts (multipart walked, base64 / quoted-printable, charsets).

export interface Part { headers: [string, string][]; contentType: string; params: Record<string, string>; body: string }
export interface Parsed { headers: [string, string][]; text: string | null; html: string | null }

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff)
const decodeBytes = (bytes: Uint8Array, charset = 'utf-8') => {
  try { return new TextDecoder(charset || 'utf-8').decode(bytes) } catch { return new TextDecoder('utf-8').decode(bytes) }
}
const unQuoted = (s: string) => s.replace(/[=]([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))

/** `=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=` and `=?UTF-8?B?...?=` words; whitespace between two encoded words goes. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      const raw = enc.toUpperCase() === 'B' ? atob(text) : unQuoted(text.replace(/_/g, ' '))
      return decodeBytes(bytesOf(raw), charset.split('*')[0])
    })
}

function splitHead(raw: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(raw)
  return m ? { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) } : { head: raw, body: '' }
}

export function parseHeaders(head: string): [string, string][] {
  const out: [string, string][] = []
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1][1] += ' ' + line.trim() // folded
    else { const i = line.indexOf(':'); if (i > 0) out.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]) }
  }
  return out.map(([k, v]) => [k, decodeWords(v)])
}

const header = (hs: [string, string][], name: string) => hs.find(([k]) => k.toLowerCase() === name)?.[1] ?? ''

/** `text/html; charset="utf-8"` -> ["text/html", {charset: "utf-8"}]. */
function contentType(value: string): [string, Record<string, string>] {
  const [type, ...rest] = value.split(';')
  const params: Record<string, string> = {}
  for (const p of rest) {
    const i = p.indexOf('=')
    if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1')
  }
  return [(type.trim() || 'text/plain').toLowerCase(), params]
}

function decodeBody(body: string, encoding: string, charset: string): string {
  const enc = encoding.toLowerCase()
  if (enc === 'base64') return decodeBytes(bytesOf(atob(body.replace(/\s+/g, ''))), charset)
  if (enc === 'quoted-printable') return decodeBytes(bytesOf(unQuoted(body.replace(/=\r?\n/g, ''))), charset)
  return decodeBytes(bytesOf(body), charset) // 7bit / 8bit: the raw text as the API gave it
}

/** Every leaf part, depth first (multipart/* split on its boundary). */
export function leaves(raw: string, depth = 0): Part[] {
  const { head, body } = splitHead(raw)
  const headers = parseHeaders(head)
  const [type, params] = contentType(header(headers, 'content-type'))
  if (type.startsWith('multipart/') && params.boundary && depth < 8) {
    const chunks = body.split(new RegExp(`^--${params.boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?$`, 'm'))
    return chunks.slice(1, -1).flatMap((c) => leaves(c.replace(/^\r?\n/, ''), depth + 1))
  }
  // The API gives the message as text (each byte a character for 8bit parts): re-read it as UTF-8 bytes.
  const text = /[^\x00-\x7f]/.test(body) ? body : decodeBody(body, header(headers, 'content-transfer-encoding'), params.charset ?? 'utf-8')
  return [{ headers, contentType: type, params, body: text }]
}

export function parseMessage(raw: string): Parsed {
  const headers = parseHeaders(splitHead(raw).head)
  const parts = leaves(raw)
  const first = (t: string) => parts.find((p) => p.contentType === t)?.body ?? null
  return { headers, text: first('text/plain'), html: first('text/html') }
}
