"""What the gateway needs from storage: the tenant's tier and credentials, atomic budget
reservations and the usage ledger. After a call, finish() settles the reservation and writes
the ledger row together (one transaction on the database). backend/ai/store.py implements it on the database;
MemoryStore serves node tests and runs without a database (all tenants free by default)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Credential:
    api_key: str
    base_url: str | None = None


class AIStore(Protocol):
    async def tier(self, tenant_id: str) -> str: ...
    async def credential(self, tenant_id: str, provider: str) -> Credential | None: ...
    # True when cost_micros (and one call) fit the tenant's monthly budget and quota; the
    # amount is then held until finish().
    async def reserve(self, tenant_id: str, cost_micros: int) -> bool: ...
    async def record(self, usage: dict[str, Any]) -> None: ...
    # Settle the reservation and record the usage at once (usage None: nothing to record, e.g.
    # the circuit was open).
    async def finish(self, tenant_id: str, reserved_micros: int, actual_micros: int, called: bool,
                     usage: dict[str, Any] | None) -> None: ...


@dataclass
class MemoryStore:
    tiers: dict[str, str] = field(default_factory=dict)
    credentials: dict[tuple[str, str], Credential] = field(default_factory=dict)
    budgets: dict[str, int] = field(default_factory=dict)        # tenant -> micro-dollars per month
    quotas: dict[str, int] = field(default_factory=dict)         # tenant -> calls per month
    spent: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    usage: list[dict[str, Any]] = field(default_factory=list)
    default_tier: str = "free"

    async def tier(self, tenant_id: str) -> str:
        return self.tiers.get(tenant_id, self.default_tier)

    async def credential(self, tenant_id: str, provider: str) -> Credential | None:
        return self.credentials.get((tenant_id, provider)) or self.credentials.get(("*", provider))

    async def reserve(self, tenant_id: str, cost_micros: int) -> bool:
        # No await between the check and the update: atomic on one event loop.
        budget, quota = self.budgets.get(tenant_id), self.quotas.get(tenant_id)
        spent, calls = self.spent.get(tenant_id, 0), self.calls.get(tenant_id, 0)
        if (budget is not None and spent + cost_micros > budget) or (quota is not None and calls + 1 > quota):
            return False
        self.spent[tenant_id], self.calls[tenant_id] = spent + cost_micros, calls + 1
        return True

    async def settle(self, tenant_id: str, reserved_micros: int, actual_micros: int, called: bool) -> None:
        self.spent[tenant_id] = self.spent.get(tenant_id, 0) - reserved_micros + actual_micros
        if not called:
            self.calls[tenant_id] = self.calls.get(tenant_id, 0) - 1

    async def record(self, usage: dict[str, Any]) -> None:
        self.usage.append(usage)

    async def finish(self, tenant_id: str, reserved_micros: int, actual_micros: int, called: bool,
                     usage: dict[str, Any] | None) -> None:
        await self.settle(tenant_id, reserved_micros, actual_micros, called)
        if usage is not None:
            await self.record(usage)
