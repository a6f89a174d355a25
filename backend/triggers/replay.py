"""Replay protection for signed webhook deliveries.

A signature covers `<timestamp>.<body>`, and the timestamp check accepts it for
MAILY_WEBHOOK_TOLERANCE_S on either side of now; without this, whoever captured a delivery could
send it again within that window and start another run. The first acceptance of a (webhook,
signature) pair is remembered until the timestamp leaves the window; a repeat is 409.

Remembered in Redis (SET NX EX) when MAILY_REDIS_URL is set, else in the `webhook_deliveries`
table, inside the delivery's transaction: a delivery whose run could not start is rolled back
with it, so the sender's retry of that same delivery still gets through.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import Conflict
from backend.triggers.models import WebhookDelivery


def delivery_key(webhook_id: str, signature: str) -> str:
    return hashlib.sha256(f"{webhook_id}\n{signature.strip()}".encode()).hexdigest()


def _replayed() -> Conflict:
    return Conflict("this signed delivery was already accepted; sign each delivery with a fresh timestamp",
                    code="replayed_delivery")


class ReplayGuard:
    def __init__(self, redis_url: str = "") -> None:
        self._redis = None
        if redis_url:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(redis_url)

    async def claim(self, s: AsyncSession, key: str, timestamp: int, tolerance_s: int) -> None:
        """Remember the delivery until `timestamp + tolerance_s`, or raise 409 if it is remembered already."""
        ttl = max(1, int(timestamp + tolerance_s - time.time()) + 1)
        if self._redis is not None:
            if not await self._redis.set(f"maily:webhook-delivery:{key}", b"1", nx=True, ex=ttl):
                raise _replayed()
            return
        now = datetime.now(timezone.utc)
        await s.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.expires_at < now))
        try:
            async with s.begin_nested():
                s.add(WebhookDelivery(key=key, expires_at=now + timedelta(seconds=ttl)))
        except IntegrityError:
            raise _replayed() from None

    async def release(self, key: str) -> None:
        """Forget a claim whose run did not start (the table's row goes with the rolled-back transaction)."""
        if self._redis is not None:
            await self._redis.delete(f"maily:webhook-delivery:{key}")

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
