"""The checks behind verify.content. Each returns findings {check, severity, message}; an
"error" fails the email, a "warning" is advice. The spam score is a weighted phrase count,
a rough guide in the spirit of SpamAssassin's body rules, not a filter's verdict."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

SPAM_PHRASES: dict[str, float] = {
    "100% free": 2.0, "act now": 1.5, "all natural": 1.0, "apply now": 1.0, "be your own boss": 2.0,
    "buy now": 1.0, "call now": 1.0, "cash bonus": 2.0, "click here": 1.0, "congratulations": 1.0,
    "double your": 2.0, "earn money": 2.0, "eliminate debt": 2.5, "extra income": 2.0, "free gift": 1.5,
    "free money": 2.5, "guaranteed": 1.0, "increase sales": 1.0, "limited time": 1.0, "lose weight": 2.0,
    "make money fast": 3.0, "miracle": 1.5, "no credit check": 2.5, "no obligation": 1.0, "once in a lifetime": 1.5,
    "order now": 1.0, "risk free": 1.5, "risk-free": 1.5, "special promotion": 1.0, "urgent": 1.0,
    "winner": 1.5, "you have been selected": 2.5, "you're a winner": 2.5, "viagra": 4.0, "wire transfer": 2.0,
}
_STREET = re.compile(r"\b\d{1,6}\s+[\w .'-]{2,40}\b(street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|"
                     r"way|court|ct|place|pl|square|sq|strasse|straße|str|rue|via|weg|plaza|suite)\b\.?", re.I)
_POBOX = re.compile(r"\bp\.?\s*o\.?\s*box\s+\d+", re.I)
_POSTCODE = re.compile(r"\b\d{5}(?:-\d{4})?\b|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str]] = []
        self.images: list[dict[str, str | None]] = []
        self._a: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href") is not None:
            self._a = {"href": (a.get("href") or "").strip(), "text": ""}
            self.links.append(self._a)
        elif tag == "img":
            self.images.append({"src": a.get("src"), "alt": a.get("alt")})

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._a = None

    def handle_data(self, data: str) -> None:
        if self._a is not None:
            self._a["text"] += data


def scan_html(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    s.close()
    return s


def finding(check: str, severity: str, message: str, **detail: Any) -> dict[str, Any]:
    return {"check": check, "severity": severity, "message": message, **({"detail": detail} if detail else {})}


def spam_score(subject: str, text: str) -> tuple[float, list[str]]:
    body = f"{subject}\n{text}".lower()
    hits = [p for p in SPAM_PHRASES if p in body]
    score = sum(SPAM_PHRASES[p] for p in hits)
    letters = [c for c in subject if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        score, hits = score + 1.5, hits + ["SUBJECT IN CAPITALS"]
    if subject.count("!") >= 2 or "!!!" in text:
        score, hits = score + 1.0, hits + ["many exclamation marks"]
    return round(score, 2), hits


def has_unsubscribe(html: str, text: str, links: list[dict[str, str]]) -> bool:
    if "unsubscribe_url" in html or "unsubscribe_url" in text or "/api/email/unsubscribe/" in html + text:
        return True
    return any(re.search(r"unsubscribe|opt[ -]?out", f"{l['href']} {l['text']}", re.I) for l in links)


def has_postal_address(text: str) -> bool:
    return bool(_STREET.search(text) or _POBOX.search(text)) or (
        bool(_POSTCODE.search(text)) and bool(re.search(r"\d+\s+\w+", text)))


def link_problems(link: dict[str, str]) -> list[dict[str, Any]]:
    """Problems visible without fetching: schemes, plain http, text showing another domain."""
    href = link["href"]
    scheme = urlsplit(href).scheme.lower()
    if scheme in ("javascript", "data", "vbscript", "file"):
        return [finding("links", "error", f"unsafe link scheme {scheme}:", href=href[:200])]
    if scheme == "mailto" or href.startswith(("#", "{{")):
        return []
    if scheme not in ("http", "https"):
        return [finding("links", "error", "link is not an absolute http(s) URL", href=href[:200])]
    out = []
    if scheme == "http":
        out.append(finding("links", "warning", "link is not https", href=href[:200]))
    shown = re.search(r"(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})", link["text"].strip().lower())
    host = (urlsplit(href).hostname or "").lower()
    if shown and link["text"].strip().lower().startswith(("http", "www.")) and shown.group(1) != host \
            and not host.endswith("." + shown.group(1)):
        out.append(finding("links", "error", f"link text shows {shown.group(1)} but goes to {host}", href=href[:200]))
    return out
