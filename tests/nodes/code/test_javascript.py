"""code.javascript on the in-process engine: it computes, logs, and fails clearly at its limits."""

from __future__ import annotations

import asyncio

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.code.sandbox import CodeLimits, CodeSandbox
from nodes.services import NodeServices
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node


async def test_the_code_computes_its_output_from_input_trigger_and_upstream_nodes(run_code):
    """The function body sees `input`, `trigger` and `nodes` and its return value is the output."""
    outcome, sink = await run_code("return {sum: input.a + trigger.b, via: nodes.start.output.b}", {"a": 2, "b": 40})
    assert outcome.status == "succeeded", outcome.error
    done = sink.last("js")
    assert done.kind == "node.succeeded" and done.data["output"]["output"] == {"sum": 42, "via": 40}


async def test_console_output_is_captured_into_the_node_run(run_code):
    """console.log / warn lines land on the node's `console` port, objects shown as JSON."""
    outcome, sink = await run_code("console.log('n is', input.n, {k: [1]}); console.warn('careful'); return 1",
                                   {"n": 3})
    assert outcome.status == "succeeded"
    assert sink.last("js").data["output"]["console"] == [{"level": "log", "message": 'n is 3 {"k":[1]}'},
                                                        {"level": "warn", "message": "careful"}]


async def test_async_code_and_undefined_results_work(run_code):
    """`await` works inside the body (no timers or I/O to await), and returning nothing gives null."""
    outcome, sink = await run_code("const v = await Promise.resolve(input.x * 2); if (v > 100) return v")
    assert outcome.status == "succeeded"
    assert sink.last("js").data["output"]["output"] is None


async def test_javascript_braces_are_not_taken_for_expressions(run_code):
    """The code is a raw field: `{{` in JavaScript is not rendered by Jinja."""
    outcome, sink = await run_code("const o = {a: {b: 1}}; if (true) {{ return o.a.b + '{{ x }}' }}")
    assert outcome.status == "succeeded", outcome.error
    assert sink.last("js").data["output"]["output"] == "1{{ x }}"


async def test_a_thrown_error_fails_the_node_with_the_message_and_what_was_logged(run_code):
    """An exception fails the node as the user's mistake, pointing at the code, keeping the console."""
    outcome, sink = await run_code("console.log('step 1'); throw new TypeError('bad input')")
    assert outcome.status == "failed"
    error = sink.last("js").data["error"]
    assert error["kind"] == "config" and error["pointer"] == "/code"
    assert "TypeError: bad input" in error["message"] and "[log] step 1" in error["message"]


async def test_a_syntax_error_names_its_line(run_code):
    """Code that does not parse fails naming the line of the user's code."""
    outcome, sink = await run_code("const a = 1;\nreturn (;")
    error = sink.last("js").data["error"]
    assert outcome.status == "failed" and "does not parse" in error["message"] and "line 2" in error["message"]


async def test_an_endless_loop_fails_with_a_time_limit_error_while_the_event_loop_keeps_answering(run_code):
    """`while (true) {}` stops at its CPU limit as a time-limit error, and the app's loop ticks meanwhile."""
    loop = asyncio.get_running_loop()
    ticks = 0
    task = asyncio.ensure_future(run_code("console.log('spinning'); while (true) {}", time_limit_s=1))

    while not task.done():
        await asyncio.sleep(0.02)
        ticks += 1
    outcome, sink = task.result()
    error = sink.last("js").data["error"]
    assert outcome.status == "failed" and error["pointer"] == "/time_limit_s"
    assert error["message"].startswith("time limit")
    assert ticks >= 20          # ~1 s of CPU in the worker: the loop was free the whole time
    assert loop.is_running()


async def test_a_huge_allocation_fails_with_a_memory_limit_error(run_code):
    """Allocating past the memory limit fails the node at /memory_limit_mb, not the app."""
    for code in ("let a = []; for (;;) a.push({x: a.length})", "let s = 'x'; for (;;) s += s",
                 "return new Array(1e9).fill(0).length"):
        outcome, sink = await run_code(code, memory_limit_mb=16)
        error = sink.last("js").data["error"]
        assert outcome.status == "failed" and error["pointer"] == "/memory_limit_mb", (code, error)
        assert "memory limit" in error["message"]


async def test_deep_recursion_fails_as_a_stack_overflow(run_code):
    """Unbounded recursion is a RangeError in the sandbox, not a crash of anything."""
    outcome, sink = await run_code("function f(n) { return f(n + 1) + 1 } return f(0)")
    error = sink.last("js").data["error"]
    assert outcome.status == "failed" and "Maximum call stack size exceeded" in error["message"]


async def test_the_node_limits_are_capped_by_the_operator_settings():
    """A node asking for 600 s and 4 GB gets the operator's caps (MAILY_CODE_MAX_*), named in its error."""
    capped = CodeSandbox(CodeLimits(max_time_s=0.5, max_memory_mb=8, workers=1))
    doc = graph([node("start", "trigger.manual"),
                 node("js", "code.javascript", code="while (true) {}", time_limit_s=600, memory_limit_mb=4096)],
                [edge("start", "js")])
    try:
        outcome = await Engine(Services(nodes=NodeServices.in_memory(code=capped))).run(
            compile_graph(doc, fakes.registry()), "r-cap", {}, Emitter("r-cap", []))
    finally:
        await capped.aclose()
    assert outcome.status == "failed" and "longer than its 0.5 s" in outcome.error["message"]
