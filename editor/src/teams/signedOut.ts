// A socket closed with 4401 means the session, token or membership behind it ended: the whole page
// is signed out, not just that socket. Sockets report it here; the overlay listens.
export const SIGNED_OUT_EVENT = 'maily:signed-out'
export const SIGNED_OUT_CODE = 4401

export function reportSocketClose(event: { code: number } | null | undefined) {
  if (event?.code === SIGNED_OUT_CODE) window.dispatchEvent(new Event(SIGNED_OUT_EVENT))
}
