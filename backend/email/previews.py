"""Email previews render off the event loop, a few at a time per tenant.

A preview renders user expressions, which may spend up to the render budget (about a second) of
CPU. Rendered on the event loop, eight parallel previews by one viewer held every other request
(health checks included) for seconds. Here each render runs in a worker thread, and a tenant may
have at most PREVIEWS_PER_TENANT in flight; one more is answered 429 with Retry-After at once
rather than queued, so one tenant cannot occupy the thread pool.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

import anyio

from backend.errors import ApiError

PREVIEWS_PER_TENANT = 2
RETRY_AFTER_S = 1


class TooManyPreviews(ApiError):
    status, slug, title = 429, "too-many-requests", "Too many requests"


_in_flight: defaultdict[str, int] = defaultdict(int)


async def render_off_loop(tenant_id: str, render: Callable[[], Any]) -> Any:
    """render() in a worker thread; TooManyPreviews when the tenant already has its share in flight."""
    if _in_flight[tenant_id] >= PREVIEWS_PER_TENANT:
        raise TooManyPreviews(f"at most {PREVIEWS_PER_TENANT} previews at a time; retry in {RETRY_AFTER_S} s",
                              headers={"Retry-After": str(RETRY_AFTER_S)}, retry_after=RETRY_AFTER_S)
    _in_flight[tenant_id] += 1
    try:
        return await anyio.to_thread.run_sync(render)
    finally:
        _in_flight[tenant_id] -= 1
        if not _in_flight[tenant_id]:
            del _in_flight[tenant_id]


__all__ = ["PREVIEWS_PER_TENANT", "TooManyPreviews", "render_off_loop"]
