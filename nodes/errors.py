"""How a node fails on purpose: the errors of the node SDK (re-exported by nodes/sdk.py).

Their own module, below both nodes/sdk.py and nodes/expressions.py, so the expression
renderer can raise NodeConfigError and the SDK can render expressions without an import cycle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class NodeError(Exception):
    """Base of the errors a node raises on purpose."""


class NodeConfigError(NodeError):
    """The user's mistake (config or input): shown on the node, never retried.

    `pointer` is a JSON pointer into the node's config ("/url") or its inputs ("/inputs/items").
    """

    def __init__(self, message: str, *, pointer: str = "", node_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.pointer = pointer
        self.node_id = node_id


class NodeTemporaryError(NodeError):
    """A temporary outside failure (timeout, 429, 5xx): retried with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class NodeSuspended(NodeError):
    """Raised by a node that must wait long (a delay of hours, an approval): the run is
    suspended instead of holding a task. The engine lets the nodes already running finish,
    starts nothing new and ends the run `waiting`; the app resumes it later (at `resume_at`,
    or when a decision arrives when it is None), reusing every completed node's outputs.

    `result` is the node's outputs once `resume_at` has passed (util.delay: its input);
    `details` is what a person needs to decide (approval.wait: title, instructions, form)."""

    def __init__(self, resume_at: datetime | None, reason: str, *, result: dict[str, Any] | None = None,
                 details: dict[str, Any] | None = None):
        super().__init__(f"suspended: {reason}")
        self.message = f"suspended: {reason}"
        self.resume_at = resume_at
        self.reason = reason
        self.result = result
        self.details = details or {}
