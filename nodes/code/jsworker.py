"""The process a code.javascript call runs in (started by nodes/code/sandbox.py, never imported).

It reads one request per line on stdin and answers one line on stdout, both JSON. Each call gets
a fresh QuickJS context (quickjs-ng) with a memory limit and a CPU time limit: nothing of one
call is left for the next, and the context has no module loader and no host function at all (no
`require`, `process`, `fetch`, `std`, `os`, timers or file system). Data crosses as JSON text only.
The host kills this process when a call overruns its wall-clock budget, so even a script the
interpreter cannot interrupt does not hold the app; the process also runs with an address-space
limit, a minimal environment and its standard input/output as its only open files.

Only the standard library and `_quickjs` are imported: this file runs as a script, under `python -I`.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import _quickjs

# The prelude runs before the user's code, in the same fresh context. It keeps its own
# references (JSON, the log list, the function constructor), so whatever the user's code
# replaces on globalThis or on a prototype cannot reach what the host reads back.
PRELUDE = r"""
(function (maxLines, maxChars) {
  const stringify = JSON.stringify, parse = JSON.parse, String_ = String;
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  const lines = []; let dropped = 0;
  const show = (v) => {
    if (typeof v === 'string') return v;
    try { const s = stringify(v); return s === undefined ? String_(v) : s; } catch (e) { return String_(v); }
  };
  const logger = (level) => function (...args) {
    if (lines.length >= maxLines) { dropped++; return; }
    let text = args.map(show).join(' ');
    if (text.length > maxChars) text = text.slice(0, maxChars) + '…';
    lines.push({ level: level, message: text });
  };
  globalThis.console = Object.freeze({ log: logger('log'), info: logger('info'), warn: logger('warn'),
                                       error: logger('error'), debug: logger('debug') });
  let state = null;
  const describe = (e) => {
    try {
      // QuickJS throws null when it cannot even allocate the "out of memory" error
      if (e === null) return 'out of memory';
      if (e instanceof Error) return String_(e.name) + ': ' + String_(e.message);
      return 'thrown: ' + show(e);
    } catch (inner) { return 'thrown: (a value that cannot be shown)'; }
  };
  globalThis.__maily = [function start(code, argsJson) {
      const args = parse(argsJson);
      const fn = new AsyncFunction('input', 'trigger', 'nodes', code);
      fn(args.input, args.trigger, args.nodes).then(
        (v) => { state = { ok: true, value: v }; },
        (e) => { state = { ok: false, error: describe(e) }; });
    }, function finish() {
      const logs = { console: lines, dropped: dropped };
      if (state === null) return stringify({ done: false, ...logs });
      if (!state.ok) return stringify({ done: true, ok: false, error: state.error, ...logs });
      let out;
      try { out = stringify(state.value === undefined ? null : state.value); }
      catch (e) { return stringify({ done: true, ok: false, error: 'the result is not JSON: ' + describe(e), ...logs }); }
      return stringify({ done: true, ok: true, result: out === undefined ? 'null' : out, ...logs });
    }];
})
"""


def _logs_after(context: _quickjs.Context, finish: object) -> dict:
    """What the code logged before it failed, read with a small fresh time budget."""
    if finish is None:
        return {"console": [], "dropped": 0}
    try:
        context.set_time_limit(0.2)
        answer = json.loads(finish())   # type: ignore[operator]
        return {"console": answer["console"], "dropped": answer["dropped"]}
    except Exception:
        return {"console": [], "dropped": 0}


def _classify(exc: BaseException) -> tuple[str, str]:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if "interrupted" in first:
        return "time_limit", first
    if isinstance(exc, _quickjs.StackOverflow):
        return "error", first or "RangeError: Maximum call stack size exceeded"
    if "out of memory" in first or "string too long" in first or not first or first == "null":
        return "memory_limit", "out of memory"
    if first.startswith("SyntaxError"):
        return "syntax", text
    return "error", first


def call(req: dict) -> dict:
    time_s, memory = float(req["time_s"]), int(req["memory_bytes"])
    context = _quickjs.Context()
    context.set_memory_limit(memory)
    context.set_max_stack_size(min(memory // 4, 4 << 20))
    started = time.process_time()
    finish = None

    def left() -> float:
        return time_s - (time.process_time() - started)

    context.set_time_limit(time_s)
    try:
        context.eval(PRELUDE)(int(req.get("max_lines", 1000)), int(req.get("max_chars", 10_000)))
        # held from here on: the user's code may replace globals, not these
        start, finish = context.eval("__maily[0]"), context.eval("__maily[1]")
        context.eval("delete globalThis.__maily")
        start(req["code"], req["args"])
        # Promises settle in jobs; each job gets the time left, and the loop stops when it is spent
        # (a chain of promises that never ends is a time limit too).
        while context.execute_pending_job():
            if left() <= 0:
                return {"ok": False, "kind": "time_limit", "message": "interrupted", **_logs_after(context, finish)}
            context.set_time_limit(max(left(), 0.001))
        answer = json.loads(finish())
    except (_quickjs.JSException, _quickjs.StackOverflow) as exc:
        kind, message = _classify(exc)
        return {"ok": False, "kind": kind, "message": message, **_logs_after(context, finish)}
    except MemoryError:
        return {"ok": False, "kind": "memory_limit", "message": "out of memory", "console": []}
    finally:
        del context
    logs = {"console": answer["console"], "dropped": answer["dropped"]}
    if not answer["done"]:
        return {"ok": False, "kind": "error", "message": "the code's promise never settled (it awaited "
                "something that never comes: there are no timers or I/O here)", **logs}
    if not answer["ok"]:
        kind = "memory_limit" if answer["error"] in ("out of memory", "InternalError: out of memory",
                                                      "InternalError: string too long") else "error"
        return {"ok": False, "kind": kind, "message": answer["error"], **logs}
    return {"ok": True, "result": answer["result"], **logs}


def main() -> None:
    limit = int(os.environ.get("MAILY_CODE_WORKER_AS_BYTES", "0"))
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout = sys.stderr        # nothing else may write on the answer channel
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            answer = call(json.loads(line))
        except Exception as exc:   # a bad request, never the user's code (that is classified above)
            answer = {"ok": False, "kind": "worker", "message": f"{type(exc).__name__}: {exc}", "console": []}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
