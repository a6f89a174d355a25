"""The OAuth2 connect flow over HTTP: POST /api/credentials/{id}/oauth/start (editors and owners, from a
signed-in browser) and GET /oauth/callback, where the authorization server sends the browser back."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.deps import resolve_principal
from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.credentials.controllers import http_client
from backend.credentials.envelope import Keyring
from backend.errors import ApiError
from backend.oauth import connect
from backend.oauth.client import OAuthClient
from backend.oauth.page import callback_page


class StartOut(BaseModel):
    authorize_url: str


def oauth_client(request: Request[Any, Any, Any]) -> OAuthClient:
    """An OAuthClient whose token requests pass the app's outbound address check."""
    return OAuthClient(http_client(request))


class OAuthStartController(Controller):
    path = "/api/credentials"
    tags = ["credentials"]

    @post("/{credential_id:str}/oauth/start", operation_id="startCredentialOAuth", guards=[requires_editor],
          status_code=200)
    async def start(self, request: Request[Any, Any, Any], credential_id: str, principal: Principal,
                    db_session: AsyncSession) -> StartOut:
        """Begin connecting an oauth2 credential: the URL to open in a popup (PKCE, state bound to this session)."""
        settings = request.app.state.settings
        url = await connect.start(db_session, principal, Keyring.from_settings(settings), settings,
                                  oauth_client(request), credential_id)
        return StartOut(authorize_url=url)


@get(connect.CALLBACK_PATH, operation_id="oauthCallback", tags=["credentials"], include_in_schema=True)
async def oauth_callback(request: Request[Any, Any, Any], db_session: AsyncSession) -> Response[str]:
    """Where the authorization server returns the browser (?code&state, or ?error&state): stores the
    tokens and answers a page that tells the editor (window.opener.postMessage) how it went."""
    query = request.query_params   # read by hand: `state` is a reserved parameter name in Litestar
    try:
        principal = await resolve_principal(request)
    except ApiError as e:
        return callback_page(None, False, e.detail)
    if principal is None:
        return callback_page(None, False, "sign in to Maily Flow in this browser, then connect again")
    settings = request.app.state.settings
    oauth = oauth_client(request)
    try:
        credential_id = await connect.finish(db_session, principal, Keyring.from_settings(settings), oauth,
                                             state=query.get("state", "")[:500], code=query.get("code"),
                                             error=query.get("error"), error_description=query.get("error_description"))
    except connect.ConnectError as e:
        return callback_page(e.credential_id, False, e.message)
    finally:
        await oauth.http.aclose()
    return callback_page(credential_id, True)


ROUTES = [OAuthStartController, oauth_callback]
