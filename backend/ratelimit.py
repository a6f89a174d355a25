"""Moving-window rate limits of the `limits` package, shared by webhooks (backend/triggers/hooks.py)
and sign-in (backend/auth/ratelimit.py): in memory per app process, or in Redis when
MAILY_REDIS_URL is set, so that several app processes share one budget. Over a limit: 429
problem+json with Retry-After. When the limiter's store is down the request passes (logged):
a Redis outage must not lock everyone out."""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from backend.errors import TooManyRequests
from backend.settings import Settings

log = logging.getLogger("maily.ratelimit")


def moving_window(settings: Settings) -> MovingWindowRateLimiter:
    storage: Storage = MemoryStorage()
    if settings.redis_url:
        storage = RedisStorage("async+" + settings.redis_url, implementation="redispy")
    return MovingWindowRateLimiter(storage)


async def enforce(limiter: MovingWindowRateLimiter, item: RateLimitItem, key: tuple[str, ...], scope: str) -> None:
    """Count one hit of `key` against `item`; TooManyRequests naming `scope` when over it."""
    try:
        if await limiter.hit(item, *key):
            return
        stats = await limiter.get_window_stats(item, *key)
    except Exception:  # noqa: BLE001 - see the module docstring
        log.warning("rate limiter unavailable", exc_info=True)
        return
    retry = max(1, math.ceil(stats.reset_time - time.time()))
    raise TooManyRequests(f"rate limit of {item} reached for {scope}; retry in {retry} s",
                          headers={"Retry-After": str(retry)}, retry_after=retry)
