"""The app's secret key, from which the session cookie, encryption at rest, unsubscribe links,
webhook signatures and certificate keys derive their own keys.

Its own module so that backend/crypto.py, the AI and email stores and the controllers read it
without importing backend/auth/deps.py (the request dependencies) sideways.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from backend.settings import Settings


def secret_key(settings: Settings) -> str:
    """settings.secret_key, else one generated once into data_dir/secret_key (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def previous_secret_keys(settings: Settings) -> list[str]:
    """MAILY_SECRET_KEY_PREVIOUS (comma-separated): keys that still decrypt, never encrypt."""
    return [k.strip() for k in settings.secret_key_previous.split(",") if k.strip()]
