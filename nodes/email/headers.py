"""Header safety: no value may smuggle in a header, and recipient fields hold one address.

Python's email package is not enough on its own. A raw CR/LF raises ValueError, but an
RFC 2047 encoded word is decoded by the receiving side, so on CPython 3.11.7 a subject
`Hi =?UTF-8?Q?=0ABcc:_x@evil.test?=` reaches the wire as a real `Bcc:` line through the
policy's refolding. So every value is checked raw AND after decoding its encoded words,
and we refuse rather than strip: a value with a line break is a bug or an attack.
"""

from __future__ import annotations

import re
from email.header import decode_header
from email.utils import formataddr, getaddresses

from email_validator import EmailNotValidError, validate_email

from nodes.sdk import NodeConfigError

# CR, LF and every other character that ends a line somewhere on a mail path (str.splitlines
# also breaks at \x1c-\x1e, \x85, \u2028/9): all C0 controls but tab, DEL and those.
_BREAKS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
MAX_HEADER_CHARS = 2_000


def _decoded(value: str) -> str:
    """The text of value's RFC 2047 encoded words as a mail reader would decode them."""
    if not _ENCODED_WORD.search(value):
        return value
    parts = []
    try:
        for chunk, charset in decode_header(value):
            if isinstance(chunk, bytes):
                chunk = chunk.decode(charset or "ascii", "replace")
            parts.append(chunk)
    except (ValueError, LookupError, AssertionError):
        # undecodable encoded words: judge each one's payload bytes directly
        return value + "".join(m.group(0) for m in _ENCODED_WORD.finditer(value)).replace("=0A", "\n").replace("=0D", "\r")
    return "".join(parts)


def check_header(name: str, value: str, *, pointer: str = "") -> str:
    """value, if it is safe as the value of header `name`; NodeConfigError otherwise."""
    if not isinstance(value, str):
        value = str(value)
    where = pointer or f"/headers/{name}"
    if len(value) > MAX_HEADER_CHARS:
        raise NodeConfigError(f"{name} is longer than {MAX_HEADER_CHARS} characters", pointer=where)
    if _BREAKS.search(value):
        raise NodeConfigError(f"{name} contains a line break or control character", pointer=where)
    if _BREAKS.search(_decoded(value)):
        raise NodeConfigError(f"{name} contains an encoded line break (RFC 2047)", pointer=where)
    return value


_NAME = re.compile(r"^[!#-'*+\-/-9=?A-Z^-~]+(?:-[!#-'*+\-/-9=?A-Z^-~]+)*$")


def check_header_name(name: str, *, pointer: str = "/headers") -> str:
    if not name or len(name) > 76 or not _NAME.match(name) or ":" in name:
        raise NodeConfigError(f"{name!r} is not a valid header name", pointer=pointer)
    return name


def check_address(value: str, field: str, *, pointer: str = "") -> str:
    """One mailbox, `a@x.com` or `Name <a@x.com>`, normalised; lists are refused, not split:
    `"a@x.com, b@evil.test"` in a recipient field would otherwise send to both."""
    where = pointer or f"/{field}"
    if not isinstance(value, str) or not value.strip():
        raise NodeConfigError(f"{field} is empty", pointer=where)
    check_header(field, value, pointer=where)
    pairs = getaddresses([value])
    if len(pairs) != 1 or not pairs[0][1] or value.count("@") != 1:
        raise NodeConfigError(f"{field} must hold exactly one address, got {value!r}", pointer=where)
    name, addr = pairs[0]
    try:
        valid = validate_email(addr, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise NodeConfigError(f"{field}: {exc}", pointer=where) from None
    check_header(field, name, pointer=where)
    return formataddr((name, valid.normalized)) if name else valid.normalized


def bare_address(value: str) -> str:
    """The addr-spec of a checked address, lower-cased: the key of suppression and the sent-log."""
    return getaddresses([value])[0][1].strip().lower()
