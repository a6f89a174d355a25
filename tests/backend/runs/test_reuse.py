"""What a new pass reuses: a failure its node's on_error handled counts as done on resume, not on retry."""

from __future__ import annotations

from datetime import datetime, timezone

from backend.runs.reuse import next_pass, retry_reuse
from flows.compile import compile_graph
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node

PLAN = compile_graph(graph([node("start", "trigger.manual"), node("call", "test.flaky", on_error="branch"),
                            node("stopper", "test.flaky"), node("wait", "approval.wait")],
                           [edge("start", "call"), edge("call", "wait", source_port="error"), edge("start", "stopper")]),
                     fakes.registry())
ERROR_OUT = {"error": {"error": {"kind": "temporary", "message": "503", "node_id": "call"}}}


def _row(node_id: str, status: str, output: object) -> dict:
    return {"node_id": node_id, "iteration": None, "status": status, "output": output}


ROWS = [_row("start", "succeeded", {"output": {}}), _row("call", "failed", ERROR_OUT),
        _row("stopper", "failed", None)]


def test_a_resumed_pass_reuses_a_handled_failure_so_its_branch_is_not_taken_again():
    """Resuming after a wait gives the handled node its recorded error output; an unhandled failure is not reused."""
    reuse, still = next_pass(PLAN, [{"node_id": "wait", "reason": "approval"}], ROWS, datetime.now(timezone.utc))
    assert reuse["call"] == ERROR_OUT and "stopper" not in reuse
    assert set(still) == {"wait"}


def test_a_retry_runs_a_handled_failure_again():
    """A retry reuses only nodes that succeeded: the node whose failure was handled is tried again."""
    assert set(retry_reuse(PLAN, ROWS, None)) == {"start"}


LOOP_PLAN = compile_graph(graph([node("start", "trigger.manual"), node("loop", "logic.for_each", items="{{ [1, 2] }}"),
                                 node("fetch", "test.record"), node("after", "test.record")],
                                [edge("start", "loop"), edge("loop", "fetch", "item"), edge("fetch", "after")]),
                          fakes.registry())
PIN = {"output": {"pinned": True}}
FIRST_PASS = {"start": {"output": {}}, "fetch": PIN}      # a test run's Run.reuse: a pin inside the loop


def test_a_later_pass_of_a_test_run_gives_its_pins_inside_loops_again():
    """Resuming a test run keeps the pin of a node inside a for_each (the loop had not finished), not other entries."""
    reuse, _ = next_pass(LOOP_PLAN, [], [_row("start", "succeeded", {"output": {}})], datetime.now(timezone.utc),
                         FIRST_PASS)
    assert reuse == {"start": {"output": {}}, "fetch": PIN}
    assert next_pass(LOOP_PLAN, [], [], datetime.now(timezone.utc))[0] == {}


def test_a_retry_keeps_pins_inside_loops_but_a_rerun_from_the_pinned_node_runs_it():
    """A retry of a test run reuses the loop's pin; a re-run from that very node executes it."""
    assert retry_reuse(LOOP_PLAN, [], None, first_pass=FIRST_PASS) == {"fetch": PIN}
    assert "fetch" not in retry_reuse(LOOP_PLAN, [], "fetch", first_pass=FIRST_PASS)
