"""Unsubscribe links and provider webhook URLs made under a previous secret key keep working while
MAILY_SECRET_KEY_PREVIOUS lists it, and stop when it is dropped (docs/credentials.md, rotation)."""

from __future__ import annotations

import hashlib
import hmac

from litestar.testing import AsyncTestClient

from backend.app import create_app
from nodes.email.mailer import UnsubscribeSigner

OLD, NEW = "test-secret-key", "a-brand-new-secret-key"


def _webhook_token(secret: str, tenant_id: str) -> str:
    key = hashlib.sha256(("maily-webhook:" + secret).encode()).digest()
    return tenant_id + "." + hmac.new(key, tenant_id.encode(), hashlib.sha256).hexdigest()[:32]


async def _answers(settings, tenant_id: str, previous: str) -> tuple[int, int]:
    app = create_app(settings.model_copy(update={"secret_key": NEW, "secret_key_previous": previous}))
    token = UnsubscribeSigner(OLD, "http://x").token(tenant_id, "ann@example.com")
    async with AsyncTestClient(app=app) as client:
        page = await client.get(f"/api/email/unsubscribe/{token}")
        hook = await client.post(f"/api/email/webhooks/resend/{_webhook_token(OLD, tenant_id)}", json={"type": "ping"})
    return page.status_code, hook.status_code


async def test_old_links_work_while_the_old_key_is_previous(settings, tenant_a):
    """With NEW as the key and OLD as previous, an OLD unsubscribe link and webhook URL are accepted."""
    assert await _answers(settings, tenant_a.id, OLD) == (200, 200)


async def test_old_links_stop_once_the_old_key_is_dropped(settings, tenant_a):
    """With NEW alone, the same link and URL are unknown (404)."""
    assert await _answers(settings, tenant_a.id, "") == (404, 404)
