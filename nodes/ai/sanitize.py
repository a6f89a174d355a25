"""Model output is untrusted text: this strips what must never reach an email body.

An allow-list HTML cleaner on the standard library's parser: known-safe formatting tags
survive without event handlers or styles, links only with http(s)/mailto targets, and
script/style/iframe/object elements disappear with their content. Control characters
other than newlines and tabs are dropped too.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

SAFE_TAGS = frozenset("a b strong i em u p br ul ol li h1 h2 h3 h4 blockquote span div table thead tbody tr td th hr".split())
DROP_WITH_CONTENT = frozenset("script style iframe object embed noscript template svg math head title form".split())
_VOID = frozenset({"br", "hr"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_WITH_CONTENT:
            self.skip += tag not in _VOID
            return
        if self.skip or tag not in SAFE_TAGS:
            return
        kept = ""
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if re.match(r"^(https?:|mailto:)", href.strip(), re.I):
                kept = f' href="{html.escape(href.strip(), quote=True)}" rel="noopener noreferrer"'
        self.out.append(f"<{tag}{kept}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.skip and tag in SAFE_TAGS:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_WITH_CONTENT:
            self.skip = max(0, self.skip - 1)
        elif not self.skip and tag in SAFE_TAGS and tag not in _VOID:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(html.escape(data, quote=False))


def clean_html(text: str) -> str:
    cleaner = _Cleaner()
    cleaner.feed(_CONTROL.sub("", text))
    cleaner.close()
    return "".join(cleaner.out)


def clean_text(text: str) -> str:
    """Plain text: control characters out, and any markup reduced to the safe subset."""
    text = _CONTROL.sub("", text).strip()
    return clean_html(text) if "<" in text else text
