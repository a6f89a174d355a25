"""Sign-in rate limits (issue 13): per account (email) and per client address, for sign-in,
sign-up, password change and password-reset requests (backend/ratelimit.py: memory, or Redis
when MAILY_REDIS_URL is set). Every attempt counts, right or wrong, so guessing is bounded
either way; over a limit the answer is 429 problem+json with Retry-After."""

from __future__ import annotations

from typing import Any

from limits import parse

from backend.ratelimit import enforce, moving_window
from backend.settings import Settings


class SignInLimits:
    def __init__(self, settings: Settings) -> None:
        self._limiter = moving_window(settings)
        self._account = parse(settings.signin_account_rate)
        self._address = parse(settings.signin_address_rate)

    async def hit(self, action: str, email: str, address: str) -> None:
        """Count one attempt of `action` (login, signup, password, reset); 429 when over either limit."""
        await enforce(self._limiter, self._account, (f"signin-{action}-account", email.strip().lower()),
                      "this account")
        await enforce(self._limiter, self._address, (f"signin-{action}-address", address), "this client address")


def signin_limits(app_state: Any) -> SignInLimits:
    """The app's limiter, made on first use."""
    limits = getattr(app_state, "signin_limits", None)
    if limits is None:
        limits = app_state.signin_limits = SignInLimits(app_state.settings)
    return limits


def client_address(request: Any) -> str:
    return request.client.host if request.client else "unknown"
