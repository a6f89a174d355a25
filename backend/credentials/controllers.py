"""/api/credentials: the workspace's vault. Every member lists (viewers see names and types only);
editors and owners create, change, delete and test. No response carries a secret value."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.ai.services import forget_keys
from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.credentials import services
from backend.credentials.envelope import Keyring
from backend.credentials.models import Credential
from backend.credentials.schemas import (CreateIn, CredentialOut, FindingOut, PatchIn, ScanIn, ScanOut, TestIn,
                                         TestOut, TypeOut)
from backend.credentials.tester import run_test
from backend.credentials.types import describe
from backend.credentials.usage import used_by
from flows.secrets_scan import scan_graph
from nodes.net import SafeHttpClient


def keyring(request: Request) -> Keyring:
    return Keyring.from_settings(request.app.state.settings)


def _out(row: Credential, p: Principal, **extra: object) -> CredentialOut:
    # Viewers see that a credential exists (to understand a workflow), not how it is set up.
    fields = dict(row.fields) if p.role != "viewer" else None
    return CredentialOut(id=row.id, name=row.name, type=row.type, fields=fields, created_by=row.created_by,
                         created_at=row.created_at, updated_at=row.updated_at, **extra)  # type: ignore[arg-type]


class CredentialController(Controller):
    path = "/api/credentials"
    tags = ["credentials"]

    @get("/", operation_id="listCredentials")
    async def list_credentials(self, principal: Principal, db_session: AsyncSession) -> list[CredentialOut]:
        """The workspace's credentials by name; non-secret fields for editors and owners only."""
        return [_out(r, principal) for r in await services.list_all(db_session, principal.tenant_id)]

    @post("/", operation_id="createCredential", guards=[requires_editor], status_code=201)
    async def create(self, request: Request, data: CreateIn, principal: Principal,
                     db_session: AsyncSession) -> CredentialOut:
        """Create a credential; its secret fields are sealed and never shown again."""
        row = await services.create(db_session, principal, keyring(request), data)
        return _out(row, principal)

    @get("/types", operation_id="listCredentialTypes")
    async def types(self) -> list[TypeOut]:
        """Every credential type with its fields (which are secret, which required), for forms."""
        return [TypeOut(**t) for t in describe()]

    @post("/scan", operation_id="scanGraphForSecrets", status_code=200)
    async def scan(self, data: ScanIn, principal: Principal) -> ScanOut:
        """Literal secret-looking values in a graph's node configs (to move into credentials)."""
        return ScanOut(findings=[FindingOut(**f) for f in scan_graph(data.graph)])

    @get("/{credential_id:str}", operation_id="getCredential")
    async def get_one(self, request: Request, credential_id: str, principal: Principal,
                      db_session: AsyncSession) -> CredentialOut:
        """One credential: non-secret fields, who created it, which workflows use it."""
        row = await services.get(db_session, principal.tenant_id, credential_id)
        users = await used_by(db_session, principal.tenant_id, row.id, request.app.state.registry)
        return _out(row, principal, used_by=users)

    @patch("/{credential_id:str}", operation_id="updateCredential", guards=[requires_editor])
    async def update(self, request: Request, credential_id: str, data: PatchIn, principal: Principal,
                     db_session: AsyncSession) -> CredentialOut:
        """Rename, or replace some fields; a secret field left out keeps its value."""
        row = await services.patch(db_session, principal, keyring(request), credential_id, data)
        forget_keys(request.app.state, principal.tenant_id)   # an ai_provider key reaches the gateway at once
        return _out(row, principal)

    @delete("/{credential_id:str}", operation_id="deleteCredential", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def remove(self, request: Request, credential_id: str, principal: Principal, db_session: AsyncSession) -> None:
        """Delete a credential; 409 with `used_by` while a workflow (graph or published version) uses it."""
        await services.delete(db_session, principal, credential_id, request.app.state.registry)
        forget_keys(request.app.state, principal.tenant_id)

    @post("/{credential_id:str}/test", operation_id="testCredential", guards=[requires_editor], status_code=200)
    async def test(self, request: Request, credential_id: str, principal: Principal,
                   db_session: AsyncSession, data: TestIn | None = None) -> TestOut:
        """Try the credential (an HTTP GET to `url`, an SMTP login, a SQL select 1, an OAuth2 token) and say how it went."""
        return await services.test(db_session, principal, keyring(request), credential_id, (data or TestIn()).url,
                                   http_client(request))


def http_client(request: Request) -> SafeHttpClient:
    """A client for one credential check or token request: the app's outbound address check,
    at most 15 s and 1 MiB (also backend/oauth/controllers.py's)."""
    s = request.app.state.settings
    return SafeHttpClient(allowed_hosts=s.http_allowed_host_set, timeout_s=min(s.http_timeout_s, 15.0),
                          max_response_bytes=1024 * 1024)


ROUTES = [CredentialController]
