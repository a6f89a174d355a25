"""The OAuth2 connect flow of an oauth2 credential (authorization code with PKCE).

POST /api/credentials/{id}/oauth/start makes a state and a PKCE verifier and keeps them, with who
asked, in the credential itself: a server-managed secret field (`pending_connect`), sealed like
every secret, so any app instance can finish the flow and nothing new needs a table. The state
the authorization server carries is "<credential id>.<random>"; only its hash is kept.

GET /oauth/callback accepts the state once (it is consumed before the code is exchanged), within
CONNECT_TTL_S, from the same user in the same browser session that started it, for a credential
of that user's workspace. A newer start replaces an older pending one. The tokens the exchange
gives are sealed into the credential; the refresh token never leaves the server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.services import record
from backend.auth.schemas import Principal
from backend.credentials import services as vault
from backend.credentials.envelope import Keyring
from backend.credentials.models import Credential
from backend.db.scoped import find_scoped
from backend.email.store import public_url
from backend.errors import Conflict, Forbidden
from backend.oauth.client import OAuthClient, OAuthError
from backend.settings import Settings

CONNECT_TTL_S = 600
CALLBACK_PATH = "/oauth/callback"
PENDING_FIELD = "pending_connect"


class ConnectError(Exception):
    """The callback cannot finish the flow; the message is shown on the callback page."""

    def __init__(self, message: str, credential_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.credential_id = credential_id


@dataclass(frozen=True)
class Pending:
    state_hash: str
    verifier: str
    redirect_uri: str
    user_id: str
    session_id: str
    expires_at: float


def redirect_uri(settings: Settings) -> str:
    return public_url(settings).rstrip("/") + CALLBACK_PATH


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _pending(values: dict[str, Any]) -> Pending | None:
    try:
        return Pending(**json.loads(values.get(PENDING_FIELD) or "null"))
    except (TypeError, ValueError):
        return None


async def start(s: AsyncSession, p: Principal, keyring: Keyring, settings: Settings, oauth: OAuthClient,
                credential_id: str) -> str:
    """The authorize URL for the browser; the pending flow is sealed into the credential."""
    if p.session_id is None:
        raise Forbidden("connecting happens in a signed-in browser: an API token cannot start it")
    row = await vault.get(s, p.tenant_id, credential_id)
    values = vault.open_values(row, keyring)
    if row.type != "oauth2" or values.get("grant_type") != "authorization_code":
        raise Conflict("only oauth2 credentials of the authorization_code grant are connected in the browser "
                       "(client credentials get their token by themselves)")
    state = f"{row.id}.{secrets.token_urlsafe(32)}"
    uri = redirect_uri(settings)
    try:
        url, verifier = oauth.authorization_url(values, uri, state)
    except OAuthError as e:
        raise Conflict(e.message) from None
    pending = Pending(state_hash=_hash(state), verifier=verifier, redirect_uri=uri, user_id=p.user_id,
                      session_id=p.session_id, expires_at=time.time() + CONNECT_TTL_S)
    await vault.store_values(s, row, keyring, {**values, PENDING_FIELD: json.dumps(pending.__dict__)})
    await record(s, p, "credential.connect_start", "credential", row.id, {"name": row.name})
    return url


async def _take(s: AsyncSession, p: Principal, keyring: Keyring, state: str) -> tuple[Credential, dict[str, Any], Pending]:
    """The pending flow `state` names, consumed (committed) so it can never be used again."""
    credential_id = state.partition(".")[0]
    row = await find_scoped(s, Credential, p.tenant_id, credential_id, for_update=True)
    values = vault.open_values(row, keyring) if row is not None and row.type == "oauth2" else {}
    pending = _pending(values)
    if row is None or pending is None or not hmac.compare_digest(pending.state_hash, _hash(state)):
        raise ConnectError("this connect attempt is unknown, was already used or was replaced by a newer one: "
                           "connect again from the editor")
    await vault.store_values(s, row, keyring, {**values, PENDING_FIELD: ""})
    await s.commit()
    if time.time() > pending.expires_at:
        raise ConnectError("this connect attempt expired: connect again from the editor", row.id)
    if pending.user_id != p.user_id or pending.session_id != p.session_id:
        raise ConnectError("this connect attempt was started by another user or browser session: "
                           "connect again from the editor", row.id)
    return row, values, pending


async def finish(s: AsyncSession, p: Principal, keyring: Keyring, oauth: OAuthClient, *, state: str,
                 code: str | None, error: str | None, error_description: str | None) -> str:
    """Exchange the code and seal the tokens; the credential id. ConnectError says what failed."""
    if not p.can_edit:
        raise ConnectError("only the workspace's editors and owners can connect credentials")
    row, values, pending = await _take(s, p, keyring, state)
    if error or not code:
        said = f"{error}: {error_description}" if error and error_description else error or "no code"
        raise ConnectError(f"the authorization server did not grant access ({said[:300]})", row.id)
    try:
        tokens = await oauth.exchange_code(values, code, pending.verifier, pending.redirect_uri)
    except OAuthError as e:
        raise ConnectError(e.message, row.id) from None
    await vault.store_values(s, row, keyring, {**values, **tokens, PENDING_FIELD: ""})
    await record(s, p, "credential.connect", "credential", row.id, {"name": row.name})
    return row.id
