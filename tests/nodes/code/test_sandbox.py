"""The worker processes: killed on overrun or cancellation, reused otherwise, and holding no secret."""

from __future__ import annotations

import asyncio
import os

from nodes.code.sandbox import CodeLimits, CodeSandbox

ARGS = {"input": None, "trigger": None, "nodes": {}}


async def test_a_call_past_its_wall_clock_budget_has_its_worker_killed():
    """When the interpreter does not stop in time the host kills the process and answers a time limit."""
    box = CodeSandbox(CodeLimits(workers=1))
    try:
        # a CPU limit far above the wall budget: only the kill can end this call
        answer = await box.run_js("while (true) {}", ARGS, time_s=60, memory_mb=16, wall_s=0.5)
        assert answer["ok"] is False and answer["kind"] == "time_limit" and "wall-clock" in answer["message"]
        assert box.pids() == []
        again = await box.run_js("return 1 + 1", ARGS, time_s=1, memory_mb=16)   # a new worker takes over
        assert again == {"ok": True, "result": "2", "console": [], "dropped": 0}
    finally:
        await box.aclose()


async def test_a_script_stopped_at_its_cpu_limit_keeps_what_it_logged():
    """The interpreter's own time limit stops the script in its worker, which then reads back the console."""
    box = CodeSandbox(CodeLimits(workers=1))
    try:
        answer = await box.run_js("console.log('spinning'); while (true) {}", ARGS, time_s=0.5, memory_mb=16,
                                  wall_s=120)   # a busy machine may take long to give it 0.5 s of CPU
        assert answer["kind"] == "time_limit" and "interrupted" in answer["message"]
        assert answer["console"] == [{"level": "log", "message": "spinning"}]
        assert len(box.pids()) == 1          # not killed: the worker serves the next call
    finally:
        await box.aclose()


async def test_cancelling_a_call_kills_its_worker():
    """A node cancelled mid-script (run cancelled or paused) stops the script's process at once."""
    box = CodeSandbox(CodeLimits(workers=1))
    try:
        await box.run_js("return 0", ARGS, time_s=1, memory_mb=16)
        [pid] = box.pids()
        task = asyncio.ensure_future(box.run_js("while (true) {}", ARGS, time_s=60, memory_mb=16))
        while not task.done() and box._pool().gate.locked() is False:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        while _alive(pid):      # killed, not left spinning: the process goes within moments
            await asyncio.sleep(0.01)
    finally:
        await box.aclose()


async def test_workers_are_reused_and_bounded():
    """Calls share a worker process; at most `workers` run at once."""
    box = CodeSandbox(CodeLimits(workers=2))
    try:
        answers = await asyncio.gather(*(box.run_js(f"return {i}", ARGS, time_s=1, memory_mb=16) for i in range(8)))
        assert [a["result"] for a in answers] == [str(i) for i in range(8)]
        assert 1 <= len(box.pids()) <= 2
    finally:
        await box.aclose()


async def test_a_worker_gets_none_of_the_apps_environment(monkeypatch):
    """The app's secrets (MAILY_SECRET_KEY, database URLs) are not in a worker's environment."""
    monkeypatch.setenv("MAILY_SECRET_KEY", "very-secret")
    box = CodeSandbox(CodeLimits(workers=1))
    try:
        await box.run_js("return 0", ARGS, time_s=1, memory_mb=16)
        [pid] = box.pids()
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read()
        assert b"very-secret" not in env and b"MAILY_SECRET_KEY" not in env
    finally:
        await box.aclose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:     # a zombie is dead too
        return f.read().split(")")[-1].split()[0] != "Z"
