"""Escape attempts from code.javascript all fail: no host object, module, network or shared state."""

from __future__ import annotations

import json

import pytest

ESCAPES = {
    "the Function constructor reaching process": "return this.constructor.constructor('return process')()",
    "the constructor of a function reaching process": "return (() => 0).constructor('return process.env')()",
    "require": "return require('child_process')",
    "dynamic import of a host module": "return await import('os')",
    "dynamic import of a file": "return await import('/etc/passwd')",
    "fetch": "return await fetch('http://127.0.0.1/')",
    "XMLHttpRequest": "return new XMLHttpRequest()",
    "std of the QuickJS shell": "return std.loadFile('/etc/passwd')",
    "os of the QuickJS shell": "return os.exec(['id'])",
    "timers": "return setTimeout(() => 0, 1)",
    "eval reaching process": "return eval('process')",
}


@pytest.mark.parametrize("code", ESCAPES.values(), ids=ESCAPES.keys())
async def test_an_escape_attempt_fails_the_node(run_code, code):
    """Each way out of the sandbox is a plain error inside it: the name does not exist or cannot load."""
    outcome, sink = await run_code(code)
    error = sink.last("js").data["error"]
    assert outcome.status == "failed", code
    assert ("is not defined" in error["message"] or "could not load module" in error["message"]), error


async def test_the_global_object_holds_only_the_language(run_code):
    """globalThis has ECMAScript's built-ins and our console, nothing of the host."""
    outcome, sink = await run_code("return Object.getOwnPropertyNames(globalThis)")
    names = set(sink.last("js").data["output"]["output"])
    assert {"Object", "JSON", "Math", "console"} <= names
    assert not names & {"process", "require", "fetch", "std", "os", "print", "setTimeout", "XMLHttpRequest",
                        "WebAssembly", "Deno", "Bun", "global", "module", "exports", "__maily"}


async def test_prototype_pollution_stays_in_its_own_call(run_code):
    """Object.prototype changed by one call is gone in the next, and the host gets plain JSON data."""
    outcome, sink = await run_code("Object.prototype.polluted = 'yes'; Array.prototype.push = null;"
                                   "JSON.stringify = () => '{\"forged\": true}';"
                                   "return JSON.parse('{\"__proto__\": {\"admin\": true}, \"a\": 1}')")
    assert outcome.status == "succeeded"
    out = sink.last("js").data["output"]["output"]
    assert out == {"__proto__": {"admin": True}, "a": 1}      # a key like any other for the host
    assert not hasattr(dict, "admin") and not hasattr(json, "polluted")
    outcome, sink = await run_code("return [({}).polluted ?? 'clean', typeof [].push]")
    assert sink.last("js").data["output"]["output"] == ["clean", "function"]


async def test_replacing_console_or_globals_cannot_forge_what_the_host_reads(run_code):
    """The host reads the result and the logs through references the code never sees."""
    outcome, sink = await run_code("console.log('real'); globalThis.console = {log() {}};"
                                   "Object.defineProperty(globalThis, 'JSON', {value: null}); return 7")
    assert outcome.status == "succeeded"
    out = sink.last("js").data["output"]
    assert out["output"] == 7 and out["console"] == [{"level": "log", "message": "real"}]


async def test_a_promise_chain_that_never_ends_is_a_time_limit(run_code):
    """Microtasks re-queued forever cannot outlive the call's CPU budget."""
    outcome, sink = await run_code("function f() { Promise.resolve().then(f) } f(); return 1", time_limit_s=1)
    error = sink.last("js").data["error"]
    assert outcome.status == "failed" and error["pointer"] == "/time_limit_s"


async def test_catastrophic_regex_backtracking_is_a_time_limit(run_code):
    """A regex that backtracks exponentially is interrupted like any loop."""
    outcome, sink = await run_code("return /^(a+)+$/.test('a'.repeat(40) + '!')", time_limit_s=1)
    assert outcome.status == "failed" and sink.last("js").data["error"]["pointer"] == "/time_limit_s"
