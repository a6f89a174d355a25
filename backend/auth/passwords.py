"""Password policy of sign-up, password change, reset and invitation accept: at least ten
characters and not in a short list of common passwords (common_passwords.txt)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from backend.errors import Unprocessable

MIN_LENGTH = 10


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = (Path(__file__).with_name("common_passwords.txt")).read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_new_password(password: str, field: str = "password") -> None:
    """422 naming `field` when the password is too short or too common."""
    if len(password) < MIN_LENGTH:
        raise Unprocessable(f"{field}: use at least {MIN_LENGTH} characters", field=field, pointer=f"/{field}")
    if password.lower() in common_passwords():
        raise Unprocessable(f"{field}: this password is too common; choose another", field=field,
                            pointer=f"/{field}")
