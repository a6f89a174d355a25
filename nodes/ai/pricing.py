"""Token estimates and the price table. Money is integer micro-dollars (1e-6 USD) everywhere,
so budget arithmetic in the database is exact."""

from __future__ import annotations

import math

# USD per million tokens: [input, output]. Keys: "provider:model", "model", "provider:*", "*".
DEFAULT_PRICES: dict[str, list[float]] = {
    "openai:gpt-4o-mini": [0.15, 0.60],
    "openai:gpt-4o": [2.50, 10.00],
    "openai:gpt-4.1-mini": [0.40, 1.60],
    "anthropic:claude-3-5-haiku-latest": [0.80, 4.00],
    "anthropic:claude-sonnet-4-5": [3.00, 15.00],
    "compatible:*": [0.0, 0.0],        # self-hosted models: no per-token bill
    "offline:*": [0.0, 0.0],
    "*": [1.00, 4.00],                 # unknown models: priced, so budgets still bind
}


def estimate_tokens(text: str) -> int:
    """~4 characters per token for English (no tokenizer download needed offline)."""
    return max(1, math.ceil(len(text) / 4))


def reserve_tokens(text: str) -> int:
    """A deliberately high input estimate for budget reservations (~2 chars per token), so
    that settling with the provider's real count rarely exceeds what was reserved."""
    return max(1, math.ceil(len(text) / 2)) + 16


class PriceTable:
    def __init__(self, prices: dict[str, list[float]] | None = None):
        self.prices = {**DEFAULT_PRICES, **(prices or {})}

    def rate(self, provider: str, model: str) -> tuple[float, float]:
        for key in (f"{provider}:{model}", model, f"{provider}:*", "*"):
            if key in self.prices:
                p = self.prices[key]
                return float(p[0]), float(p[1])
        return 0.0, 0.0

    def cost_micros(self, provider: str, model: str, tokens_in: int, tokens_out: int) -> int:
        rin, rout = self.rate(provider, model)
        # per-million price x tokens = micro-dollars; round up so no call is free by rounding.
        return math.ceil(rin * tokens_in + rout * tokens_out)
