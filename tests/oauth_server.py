"""A real OAuth2 authorization server on loopback for the OAuth tests, built on Authlib's server
components (its Flask integration): authorization code with PKCE (S256 required), refresh tokens
with rotation (the old refresh token is revoked when a new one is issued), client credentials,
and a protected API endpoint that checks the bearer token with Authlib's ResourceProtector.

What a test may steer: the lifetime of the tokens it issues next (`expires_in`), a 401 from the
API for the next n calls even with a good token (`fail_api_next`), every refresh token revoked
(`revoke_refresh_tokens`), every access token expired (`expire_access_tokens`). The authorize
endpoint approves at once, as a fixed user, so a test follows the redirect without a login page.
"""

from __future__ import annotations

import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

USER = "ada"   # the resource owner the authorize endpoint approves for


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    grant_types: list[str]
    auth_method: str = "client_secret_basic"
    scope: str = "read write"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        asked = (scope or "").split()
        return " ".join(s for s in asked if s in self.scope.split())

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class Token(TokenMixin):
    client_id: str
    user: str | None
    access_token: str
    scope: str
    expires_in: int
    refresh_token: str | None = None
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class OAuthServer:
    """The server's state (clients, codes, tokens) and the knobs the tests turn."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: list[Token] = []
        self.expires_in = 3600
        self.fail_api_next = 0
        self.api_calls: list[tuple[int, str]] = []   # (status, bearer token) of every API call
        self.token_requests: list[dict[str, str]] = []   # the form of every token request
        self.base_url = ""

    # --- what tests use -------------------------------------------------------------------
    def add_client(self, *, grant_types: tuple[str, ...] = ("authorization_code", "refresh_token"),
                   redirect_uris: tuple[str, ...] = (), auth_method: str = "client_secret_basic") -> Client:
        client = Client(client_id=f"client-{generate_token(8)}", client_secret=generate_token(32),
                        redirect_uris=list(redirect_uris), grant_types=list(grant_types), auth_method=auth_method)
        with self.lock:
            self.clients[client.client_id] = client
        return client

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                token.revoked = True

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                token.issued_at = time.time() - token.expires_in - 1

    def token(self, access_token: str) -> Token | None:
        with self.lock:
            return next((t for t in self.tokens if t.access_token == access_token), None)

    # --- what Authlib calls -----------------------------------------------------------------
    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict, request) -> None:
        with self.lock:
            self.tokens.append(Token(client_id=request.client.get_client_id(), user=request.user,
                                     access_token=token["access_token"], scope=token.get("scope", ""),
                                     expires_in=token["expires_in"], refresh_token=token.get("refresh_token")))


def _grants(state: OAuthServer) -> tuple[type, type]:
    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def save_authorization_code(self, code: str, request) -> None:
            data = request.payload.data
            with state.lock:
                state.codes[code] = AuthorizationCode(
                    code=code, client_id=request.client.get_client_id(), redirect_uri=data.get("redirect_uri", ""),
                    scope=request.payload.scope or "", user=request.user, code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"))

        def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
            item = state.codes.get(code)
            return item if item and item.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            with state.lock:
                state.codes.pop(authorization_code.code, None)   # single use

        def authenticate_user(self, authorization_code: AuthorizationCode) -> str:
            return authorization_code.user

    class RefreshGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
        INCLUDE_NEW_REFRESH_TOKEN = True   # rotation

        def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
            with state.lock:
                return next((t for t in state.tokens if t.refresh_token == refresh_token and not t.revoked), None)

        def authenticate_user(self, refresh_token: Token) -> str | None:
            return refresh_token.user

        def revoke_old_credential(self, refresh_token: Token) -> None:
            with state.lock:
                refresh_token.revoked = True

    return CodeGrant, RefreshGrant


def _app(state: OAuthServer) -> Flask:
    app = Flask(__name__)
    server = AuthorizationServer(app, query_client=state.query_client, save_token=state.save_token)
    server.register_token_generator("default", BearerTokenGenerator(
        lambda **_: generate_token(42), lambda **_: generate_token(48), lambda client, grant_type: state.expires_in))
    code_grant, refresh_grant = _grants(state)
    server.register_grant(code_grant, [CodeChallenge(required=True)])
    server.register_grant(refresh_grant)
    server.register_grant(grants.ClientCredentialsGrant)

    class Validator(BearerTokenValidator):
        def authenticate_token(self, token_string: str) -> Token | None:
            return state.token(token_string)

    require_oauth = ResourceProtector()
    require_oauth.register_token_validator(Validator())

    @app.get("/authorize")
    def authorize():
        return server.create_authorization_response(grant_user=USER)

    @app.post("/token")
    def token():
        with state.lock:
            state.token_requests.append(dict(request.form))
        return server.create_token_response()

    @app.post("/token/echo")
    def token_echo():
        # A careless token endpoint: its error text repeats what the client sent (the client must
        # scrub it before quoting it).
        return jsonify(error="invalid_request", error_description=f"bad request {request.form.to_dict()} "
                       f"{request.headers.get('Authorization', '')}"), 400

    @app.get("/api/me")
    def me():
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with state.lock:
            forced = state.fail_api_next > 0
            state.fail_api_next -= forced
        try:
            if forced:
                raise InvalidTokenError()
            tok = require_oauth.acquire_token()   # a missing, unknown, expired or revoked token is refused
        except OAuth2Error as error:
            state.api_calls.append((error.status_code, bearer))
            return dict(error.get_body()), error.status_code, dict(error.get_headers())
        state.api_calls.append((200, bearer))
        return jsonify(user=tok.user, client_id=tok.client_id, scope=tok.scope)

    return app


@contextmanager
def oauth_server() -> Iterator[OAuthServer]:
    """An OAuthServer serving on 127.0.0.1:<free port> in a thread until the block ends."""
    state = OAuthServer()
    http = make_server("127.0.0.1", 0, _app(state), threaded=True)
    state.base_url = f"http://127.0.0.1:{http.server_port}"
    thread = threading.Thread(target=http.serve_forever, name="oauth-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        http.shutdown()
        thread.join()
