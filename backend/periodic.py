"""A loop inside the app that calls `tick()` every `interval_s` seconds until stopped: the cron
scheduler, the resumer of waiting runs, the run retention pruner. A failed tick is logged and the
next one tries again (the database may be back by then); stop() cancels the loop and waits for it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any


class Periodic:
    name = "maily-periodic"
    failure = "periodic tick failed"
    wait_first = False   # True: the first tick comes one interval after start

    def __init__(self, interval_s: float, log: logging.Logger) -> None:
        self.interval_s, self._log = interval_s, log
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> Any:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except BaseException:   # noqa: BLE001 - the cancellation, or whatever the last tick raised
                pass
            self._task = None

    async def _loop(self) -> None:
        if self.wait_first:
            await asyncio.sleep(self.interval_s)
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                self._log.exception(self.failure)
            await asyncio.sleep(self.interval_s)
