"""DbCredentialStore: the app's nodes.credentials.CredentialStore, reading the vault at run time.

A node asks for a credential id and the types it accepts; an unknown id (or one of another
workspace) and a type the node does not take are NodeConfigErrors at /credential, shown on the
node. oauth2 credentials get a fresh access token first: the OAuth client (backend/oauth/client.py)
says whether it refreshed, and what it returns is sealed back into the row before the fields are
handed out. Refreshes of one credential are serialised in this process, so two runs do not spend
the same refresh token.
"""

from __future__ import annotations

import asyncio
from typing import Any

from backend.credentials.envelope import Keyring, VaultKeyError
from backend.credentials.models import Credential
from backend.credentials.services import missing_fields, sealed_of, store_values
from backend.credentials.types import TYPES
from backend.db.scoped import find_scoped
from backend.oauth.client import OAuthError, OAuthUnavailable
from nodes.credentials import ResolvedCredential
from nodes.errors import NodeConfigError, NodeTemporaryError

POINTER = "/credential"


class DbCredentialStore:
    def __init__(self, db: Any, keyring: Keyring, oauth: Any | None = None):
        self.db = db          # a Database, or LazyDb (node_services runs before an event loop exists)
        self.keyring = keyring
        self.oauth = oauth
        self._locks: dict[str, asyncio.Lock] = {}

    async def _row(self, s: Any, tenant_id: str, credential_id: str, *, for_update: bool = False) -> Credential:
        row = await find_scoped(s, Credential, tenant_id, credential_id, for_update=for_update)
        if row is None:
            raise NodeConfigError(f"credential {credential_id!r} does not exist in this workspace", pointer=POINTER)
        return row

    def _open(self, row: Credential) -> dict[str, Any]:
        try:
            return {**row.fields, **self.keyring.open(row.tenant_id, row.id, sealed_of(row))}
        except VaultKeyError:
            raise NodeConfigError(f"credential {row.name!r} cannot be opened with the server's secret key: "
                                  "enter its secret again", pointer=POINTER) from None

    @staticmethod
    def _check_filled(row: Credential, values: dict[str, Any]) -> None:
        missing = missing_fields(row.type, values)
        if missing:   # an entry created empty (an n8n import) and not filled in yet
            raise NodeConfigError(f"credential {row.name!r} is not filled in: enter {', '.join(missing)} "
                                  "in the workspace's credentials", pointer=POINTER)

    def _resolved(self, row: Credential, values: dict[str, Any]) -> ResolvedCredential:
        self._check_filled(row, values)
        return ResolvedCredential(row.id, row.type, values, TYPES[row.type].secret_names)

    async def resolve(self, tenant_id: str, credential_id: str, types: tuple[str, ...]) -> ResolvedCredential:
        async with self.db.sessionmaker() as s:
            row = await self._row(s, tenant_id, credential_id)
            if types and row.type not in types:
                raise NodeConfigError(f"credential {row.name!r} is of type {row.type}; this field takes "
                                      f"{' or '.join(types)}", pointer=POINTER)
            if row.type != "oauth2":
                return self._resolved(row, self._open(row))
        return await self._oauth(tenant_id, credential_id, force=False)

    async def refresh(self, tenant_id: str, credential_id: str) -> ResolvedCredential:
        async with self.db.sessionmaker() as s:
            row = await self._row(s, tenant_id, credential_id)
            if row.type != "oauth2":
                return self._resolved(row, self._open(row))
        return await self._oauth(tenant_id, credential_id, force=True)

    async def _oauth(self, tenant_id: str, credential_id: str, *, force: bool) -> ResolvedCredential:
        if self.oauth is None:
            raise NodeConfigError("OAuth2 is not configured on this server", pointer=POINTER)
        lock = self._locks.setdefault(credential_id, asyncio.Lock())
        async with lock, self.db.sessionmaker() as s:
            # Read again under the lock: another run may have just stored a new token. The row
            # lock makes the refresh and its write one step against other processes too, and
            # against a reconnect (/oauth/callback), whose tokens must not be overwritten by a
            # refresh of the tokens it replaced.
            row = await self._row(s, tenant_id, credential_id, for_update=True)
            values = self._open(row)
            self._check_filled(row, values)
            try:
                new = await (self.oauth.refresh(values) if force else self.oauth.ensure_fresh(values))
            except OAuthUnavailable as exc:   # the token endpoint is down or slow: the node retries
                raise NodeTemporaryError(f"credential {row.name!r}: {exc.message}") from None
            except OAuthError as exc:   # refused or not connected: the user's to fix (reconnect)
                raise NodeConfigError(f"credential {row.name!r}: {exc.message}", pointer=POINTER) from None
            if new:
                values = {**values, **new, "connected": True}
                await store_values(s, row, self.keyring, values)
                await s.commit()
            return self._resolved(row, values)

    async def aclose(self) -> None:
        dispose = getattr(self.db, "dispose", None)
        if dispose is not None:
            await dispose()
