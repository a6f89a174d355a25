"""Role guards. Guards run before dependencies, so they resolve the principal themselves;
it is cached on the connection and the `principal` dependency reuses it."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from backend.auth.deps import resolve_principal
from backend.auth.schemas import Principal
from backend.errors import Forbidden, Unauthorized


async def _principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    p = await resolve_principal(connection)
    if p is None:
        raise Unauthorized("sign in, or send Authorization: Bearer <API token>")
    return p


async def requires_editor(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Owners and editors; viewers get 403."""
    p = await _principal(connection)
    if p.role not in ("owner", "editor"):
        raise Forbidden(f"your role in this tenant is {p.role}; this needs editor or owner")


async def requires_owner(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Owners only."""
    p = await _principal(connection)
    if p.role != "owner":
        raise Forbidden(f"your role in this tenant is {p.role}; this needs owner")


async def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The instance administrator (users.is_admin) only."""
    p = await _principal(connection)
    if not p.is_admin:
        raise Forbidden("this needs the instance administrator")
