/** Run at most once per `ms`, always ending with the latest call (leading and trailing). */
export function makeThrottle(ms: number) {
  let last = 0
  let timer = 0
  let pending: (() => void) | null = null
  const run = (fn: () => void) => {
    const wait = last + ms - Date.now()
    if (wait <= 0) { last = Date.now(); pending = null; fn(); return }
    pending = fn
    if (!timer) timer = window.setTimeout(() => { timer = 0; const f = pending; pending = null; if (f) { last = Date.now(); f() } }, wait)
  }
  run.cancel = () => { clearTimeout(timer); timer = 0; pending = null }
  return run
}
