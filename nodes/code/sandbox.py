"""Runs a user's JavaScript in worker processes the app can always kill (code.javascript).

Each call goes to a worker process (nodes/code/jsworker.py: a fresh QuickJS context per call,
with a memory and a CPU time limit, no module loader and no host function). The app only waits
on a pipe, so a running script never holds the event loop; a call that overruns its wall-clock
budget (twice its CPU limit plus a grace) has its worker killed and gets a time-limit error, and a
cancelled node (a run cancelled or paused) kills its worker too. Workers are kept for the next
call (at most `workers` per event loop, recycled every 500 calls), started with a minimal
environment (none of the app's secrets) and an address-space limit.

Operator limits (MAILY_CODE_MAX_TIME_S, MAILY_CODE_MAX_MEMORY_MB, MAILY_CODE_WORKERS) cap what a
node's config may ask for; see docs/nodes.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("jsworker.py")
# The wall-clock budget of a call before its worker is killed: twice its CPU limit plus a grace, as a
# busy machine gives the worker less than a whole core (the CPU limit stops a script normally).
GRACE_S = 3.0
START_TIMEOUT_S = 20.0
RECYCLE_AFTER = 500            # calls per worker process
MAX_ANSWER_BYTES = 32 << 20    # the JSON answer of one call (result and console)


@dataclass(frozen=True)
class CodeLimits:
    """What the operator allows a code node at most, and how many workers run at once."""

    max_time_s: float = 10.0
    max_memory_mb: int = 256
    workers: int = 2

    @classmethod
    def from_env(cls) -> "CodeLimits":
        env = os.environ
        return cls(max_time_s=float(env.get("MAILY_CODE_MAX_TIME_S", 10.0)),
                   max_memory_mb=int(env.get("MAILY_CODE_MAX_MEMORY_MB", 256)),
                   workers=max(1, int(env.get("MAILY_CODE_WORKERS", 2))))


@dataclass(eq=False)
class _Worker:
    proc: asyncio.subprocess.Process
    calls: int = 0

    @classmethod
    async def start(cls, limits: CodeLimits) -> "_Worker":
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "MAILY_CODE_WORKER_AS_BYTES": str((3 * limits.max_memory_mb + 512) << 20)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-I", str(WORKER), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env=env, limit=MAX_ANSWER_BYTES)
        worker = cls(proc)
        try:
            ready = await asyncio.wait_for(worker._line(), START_TIMEOUT_S)
        except BaseException:
            worker.kill()
            raise
        if not ready.get("ready"):
            worker.kill()
            raise RuntimeError(f"the code worker did not start: {ready}")
        return worker

    async def _line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise EOFError("the code worker exited")
        return json.loads(line)

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.calls += 1
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        await self.proc.stdin.drain()
        return await self._line()

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        _reap(self.proc)


_reaping: set[asyncio.Task] = set()


def _reap(proc: asyncio.subprocess.Process) -> None:
    """Collect the killed process's exit status in the background (no zombie), even while cancelled."""
    try:
        task = asyncio.get_running_loop().create_task(proc.wait())
    except RuntimeError:
        return
    _reaping.add(task)
    task.add_done_callback(_reaping.discard)


@dataclass
class _Pool:
    gate: asyncio.Semaphore
    idle: list[_Worker] = field(default_factory=list)
    busy: set[int] = field(default_factory=set)


class CodeSandbox:
    """The workers of the code nodes, one pool per event loop (the app's, a Prefect flow's)."""

    def __init__(self, limits: CodeLimits | None = None):
        self.limits = limits or CodeLimits.from_env()
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pool] = weakref.WeakKeyDictionary()
        self._live: weakref.WeakSet[_Worker] = weakref.WeakSet()

    def _pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = _Pool(asyncio.Semaphore(self.limits.workers))
        return pool

    async def run_js(self, code: str, args: dict[str, Any], time_s: float, memory_mb: int,
                     wall_s: float | None = None) -> dict[str, Any]:
        """Run `code` (a function body of input, trigger, nodes) with `args`; the worker's answer:
        {ok: true, result: <JSON text>, console} or {ok: false, kind, message, console}.
        `wall_s` (tests) overrides the wall-clock budget, 2 × time_s + GRACE_S."""
        request = {"code": code, "args": json.dumps(args, default=str), "time_s": time_s,
                   "memory_bytes": memory_mb << 20}
        pool = self._pool()
        async with pool.gate:
            worker = pool.idle.pop() if pool.idle else await _Worker.start(self.limits)
            self._live.add(worker)
            try:
                answer = await asyncio.wait_for(worker.ask(request), wall_s or 2 * time_s + GRACE_S)
            except TimeoutError:
                worker.kill()
                return {"ok": False, "kind": "time_limit", "console": [],
                        "message": f"stopped after {wall_s or 2 * time_s + GRACE_S:g} s of wall-clock time"}
            except (EOFError, ValueError, asyncio.LimitOverrunError) as exc:
                worker.kill()
                too_big = not isinstance(exc, EOFError)
                return {"ok": False, "kind": "memory_limit" if too_big else "worker", "console": [],
                        "message": f"the result is larger than {MAX_ANSWER_BYTES >> 20} MB" if too_big
                        else "the code's worker process died (it may have run out of memory)"}
            except BaseException:
                worker.kill()      # cancelled (run cancelled or paused, node timeout): the script stops now
                raise
            if worker.calls < RECYCLE_AFTER and worker.proc.returncode is None:
                pool.idle.append(worker)
            else:
                worker.kill()
            return answer

    def pids(self) -> list[int]:
        """The worker processes alive now (tests check a killed one is gone)."""
        return [w.proc.pid for w in list(self._live) if w.proc.returncode is None]

    async def aclose(self) -> None:
        """Stop every worker (the app's shutdown)."""
        for worker in list(self._live):
            if worker.proc.returncode is None:
                worker.proc.kill()
                try:
                    await worker.proc.wait()
                except RuntimeError:   # a worker of another event loop: killed, reaped by that loop
                    pass
        self._pools.clear()
