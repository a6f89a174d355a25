"""Where the vault meets backend/oauth (another domain, optional): the OAuth client, if installed.

The resolver and the test endpoint take an OAuthClient-like object (ensure_fresh, refresh) and
treat None as "OAuth2 is not available on this server".
"""

from __future__ import annotations

import importlib
from typing import Any

from nodes.net import SafeHttpClient


def oauth_client(http: SafeHttpClient) -> Any | None:
    """backend/oauth/client.py's OAuthClient on this HTTP client, or None where it is not installed."""
    try:
        module = importlib.import_module("backend.oauth.client")
    except ModuleNotFoundError as exc:
        if exc.name in ("backend.oauth", "backend.oauth.client"):
            return None
        raise   # the module is there but broken: say so, do not hide it
    return module.OAuthClient(http)
