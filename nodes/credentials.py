"""Credentials as a node sees them: an id in the config, the secret resolved at the last moment.

A node config field of kind credential is a plain string holding a credential id, marked with
`credential_field(...)` so the editor shows a picker filtered by the types the node accepts.
At run time the node calls `await resolve_credential(ctx, config.credential, TYPES)`; the
store (backend/credentials/resolver.py in the app) decrypts it, and every secret value it
hands out is registered with the run's Redactor, so the engine can scrub it from whatever the
run records (outputs, errors, events) even when a server echoes it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import Field

from nodes.errors import NodeConfigError

if TYPE_CHECKING:   # nodes.sdk imports this module; the context type is only for annotations
    from nodes.sdk import NodeContext

# The credential types of the vault (docs/credentials.md). Which of their fields are secret is
# the backend's business (backend/credentials/types.py); a node reads `fields` by name.
HTTP_AUTH_TYPES = ("bearer", "basic", "header", "query", "oauth2")
REDACTED = "[redacted]"
_MIN_SECRET = 4   # shorter values ("x", "on") would scrub ordinary words from every output


def credential_field(*types: str, description: str = "A credential from the workspace's vault") -> Any:
    """A pydantic Field for a credential id; JSON Schema carries `x-credential: [types]`."""
    return Field(default=None, description=description, json_schema_extra={"x-credential": list(types)})


@dataclass(frozen=True)
class ResolvedCredential:
    id: str
    type: str
    fields: dict[str, Any]                       # public and secret fields, decrypted
    secret_names: tuple[str, ...] = ()           # which of `fields` are secret

    def secret_values(self) -> list[str]:
        return [str(self.fields[n]) for n in self.secret_names if self.fields.get(n)]


class CredentialStore(Protocol):
    async def resolve(self, tenant_id: str, credential_id: str, types: tuple[str, ...]) -> ResolvedCredential:
        """The decrypted credential; NodeConfigError (pointer /credential) when it does not exist in
        this tenant or has another type. oauth2: an access token refreshed if it is about to expire."""
        ...

    async def refresh(self, tenant_id: str, credential_id: str) -> ResolvedCredential:
        """oauth2 only: force a token refresh (the API answered 401). A refused refresh is a NodeConfigError."""
        ...


class NoCredentials:
    """No vault (plain engine runs): every credential id is unknown."""

    async def resolve(self, tenant_id: str, credential_id: str, types: tuple[str, ...]) -> ResolvedCredential:
        raise NodeConfigError(f"credential {credential_id!r} does not exist", pointer="/credential")

    async def refresh(self, tenant_id: str, credential_id: str) -> ResolvedCredential:
        return await self.resolve(tenant_id, credential_id, ())


class MemoryCredentials:
    """Credentials held in memory, for plain engine runs and plugin tests; `refreshed` maps an
    oauth2 credential id to what a refresh gives."""

    def __init__(self, credentials: dict[str, ResolvedCredential] | None = None,
                 refreshed: dict[str, ResolvedCredential] | None = None):
        self.credentials = dict(credentials or {})
        self.refreshed = dict(refreshed or {})

    async def resolve(self, tenant_id: str, credential_id: str, types: tuple[str, ...]) -> ResolvedCredential:
        cred = self.credentials.get(credential_id)
        if cred is None:
            raise NodeConfigError(f"credential {credential_id!r} does not exist", pointer="/credential")
        if types and cred.type not in types:
            raise NodeConfigError(f"credential {credential_id!r} is a {cred.type} credential; this field takes "
                                  f"{', '.join(types)}", pointer="/credential")
        return cred

    async def refresh(self, tenant_id: str, credential_id: str) -> ResolvedCredential:
        if credential_id not in self.refreshed:
            raise NodeConfigError(f"credential {credential_id!r} cannot be refreshed", pointer="/credential")
        self.credentials[credential_id] = self.refreshed.pop(credential_id)
        return self.credentials[credential_id]


@dataclass
class Redactor:
    """The secret values one run has resolved; `scrub` replaces them in anything recorded."""

    values: set[str] = field(default_factory=set)

    def add(self, credential: ResolvedCredential) -> None:
        self.values.update(v for v in credential.secret_values() if len(v) >= _MIN_SECRET)

    def scrub(self, value: Any) -> Any:
        if not self.values:
            return value
        if isinstance(value, str):
            # Longest first: a token that contains another secret is replaced whole.
            for secret in sorted(self.values, key=len, reverse=True):
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub(v) for v in value]
        return value


async def resolve_credential(ctx: "NodeContext", credential_id: str, types: tuple[str, ...],
                             *, refresh: bool = False) -> ResolvedCredential:
    """Resolve a credential for this node and register its secrets with the run's redactor."""
    store = ctx.services.credentials
    cred = (await store.refresh(ctx.tenant_id, credential_id) if refresh
            else await store.resolve(ctx.tenant_id, credential_id, types))
    ctx.redactor.add(cred)
    return cred
