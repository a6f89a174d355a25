"""The vault's credential types (backend/credentials/types.py): the webhook_url type."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.credentials.types import TYPES, describe


def test_a_webhook_urls_url_is_its_secret():
    """webhook_url has one field, url, secret and required, so no API answer carries it."""
    assert TYPES["webhook_url"].secret_names == ("url",)
    form = next(t for t in describe() if t["type"] == "webhook_url")
    assert form["fields"] == [{"name": "url", "secret": True, "required": True, "kind": "string"}]


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/x", "hooks.slack.com/services/T0/B0/x", "", "https://a b"])
def test_a_webhook_url_must_be_an_http_url(url):
    """Anything but an http(s) URL without spaces is refused when the credential is saved."""
    with pytest.raises(ValidationError):
        TYPES["webhook_url"].model.model_validate({"url": url})
