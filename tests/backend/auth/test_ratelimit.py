"""Sign-in rate limits per account and per client address (429 + Retry-After), shared through
Redis when configured; a wrong password and an unknown email cost the same password hashing."""

from __future__ import annotations

import secrets

from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.auth import services
from tests.backend.conftest import assert_problem


def _app(settings, **over):
    return create_app(settings.model_copy(update=over))


async def _attempt(client, email: str, password: str = "wrong-password"):
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_account_limit_is_429_with_retry_after_even_for_the_right_password(settings, tenant_a):
    """After the per-account budget, even the right password gets 429 with Retry-After; another account still may try."""
    owner = tenant_a.owner
    async with AsyncTestClient(app=_app(settings, signin_account_rate="3/minute")) as c:
        for _ in range(3):
            assert_problem(await _attempt(c, owner.email), 401)
        r = await _attempt(c, owner.email, owner.password)
        doc = assert_problem(r, 429)
        assert int(r.headers["retry-after"]) >= 1 and "account" in doc["detail"]
        assert (await _attempt(c, tenant_a.editor.email, tenant_a.editor.password)).status_code == 200


async def test_address_limit_spans_accounts(settings, tenant_a):
    """One client address trying many different emails is stopped by the per-address budget."""
    async with AsyncTestClient(app=_app(settings, signin_address_rate="4/minute")) as c:
        for i in range(4):
            assert_problem(await _attempt(c, f"guess-{i}@example.com"), 401)
        r = await _attempt(c, tenant_a.owner.email, tenant_a.owner.password)
        assert "address" in assert_problem(r, 429)["detail"] and r.headers["retry-after"]


async def test_password_reset_requests_are_limited_too(settings):
    """Password-reset requests for one address are limited like sign-ins (no mail bombing)."""
    email = f"victim-{secrets.token_hex(4)}@example.com"
    async with AsyncTestClient(app=_app(settings, signin_account_rate="2/minute")) as c:
        for _ in range(2):
            assert (await c.post("/api/auth/password-reset", json={"email": email})).status_code == 202
        assert_problem(await c.post("/api/auth/password-reset", json={"email": email}), 429)


async def test_redis_storage_shares_the_budget_between_app_processes(settings, tenant_a):
    """With MAILY_REDIS_URL two app instances count attempts on one account together."""
    email = f"shared-{secrets.token_hex(4)}@example.com"   # fresh key: Redis outlives the test
    over = {"signin_account_rate": "3/minute", "redis_url": "redis://127.0.0.1:6379/0"}
    async with AsyncTestClient(app=_app(settings, **over)) as one, AsyncTestClient(app=_app(settings, **over)) as two:
        for c in (one, two, one):
            assert_problem(await _attempt(c, email), 401)
        assert_problem(await _attempt(two, email), 429)


async def test_unknown_email_and_wrong_password_hash_the_same(client, tenant_a, monkeypatch):
    """An unknown email runs the password hash exactly as a wrong password does (no enumeration by timing)."""
    calls: list[str] = []
    real = services.verify_password

    def counting(password: str, stored: str) -> bool:
        calls.append(stored.split("$", 1)[0])
        return real(password, stored)

    monkeypatch.setattr(services, "verify_password", counting)
    assert_problem(await _attempt(client, f"nobody-{secrets.token_hex(4)}@example.com"), 401)
    unknown, calls[:] = list(calls), []
    assert_problem(await _attempt(client, tenant_a.owner.email), 401)
    assert unknown == calls == ["scrypt"]
