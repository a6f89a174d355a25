"""A circuit breaker per provider, and the health it reports.

Closed: calls go through. After `threshold` consecutive failures it opens: calls are
skipped (the node falls back at once instead of waiting for timeouts) until `reset_s` has
passed; then one trial call is let through (half-open): success closes it, failure reopens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Breaker:
    threshold: int = 5
    reset_s: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    trial_running: bool = False
    calls: int = 0
    errors: int = 0
    last_error: str | None = None
    last_ok_at: float | None = None
    last_latency_ms: float | None = None
    clock: Any = field(default=time.monotonic, repr=False)

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.clock() - self.opened_at >= self.reset_s else "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self.trial_running:
            self.trial_running = True
            return True
        return False

    def success(self, latency_ms: float) -> None:
        self.calls += 1
        self.failures, self.opened_at, self.trial_running = 0, None, False
        self.last_ok_at, self.last_latency_ms = time.time(), round(latency_ms, 2)

    def failure(self, error: str) -> None:
        self.calls += 1
        self.errors += 1
        self.failures += 1
        self.last_error = error
        if self.trial_running or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self.trial_running = False

    def health(self) -> dict[str, Any]:
        return {"state": self.state, "healthy": self.state == "closed", "consecutive_failures": self.failures,
                "calls": self.calls, "errors": self.errors, "last_error": self.last_error,
                "last_ok_at": self.last_ok_at, "last_latency_ms": self.last_latency_ms}
