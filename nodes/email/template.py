"""Email templates: subject, HTML and text rendered in the expression sandbox.

We reuse nodes/expressions.py's ImmutableSandboxedEnvironment subclass and its limits
(time budget, output size, size-checked operators) rather than a second sandbox: one place
to harden. Differences for mail: HTML is rendered with autoescaping on (recipient data must
not become markup), CSS is inlined with css-inline (mail clients drop <style>), and a text
part is derived from the HTML when the author gives none.
"""

from __future__ import annotations

import html as htmlmod
import re
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import css_inline
from jinja2 import TemplateError

from nodes import expressions as ex
from nodes.sdk import NodeConfigError

MAX_EMAIL_BYTES = 1_000_000  # rendered HTML+text; large mails get clipped by Gmail at 102 KB anyway

_HTML_ENV = ex._make_env()
_HTML_ENV.autoescape = True
_TEXT_ENV = ex._make_env()
# remote stylesheets would be an SSRF hole: templates are user input
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


class PreviewRecipient(dict):
    """`recipient` at compose time: unknown fields show as their placeholder, since the real
    values arrive per recipient at send time."""

    def __missing__(self, key: str) -> str:
        return "{{ recipient.%s }}" % key


class Recipient(dict):
    """`recipient` at send time: a field one recipient lacks renders empty instead of failing
    the whole list (lists are ragged: not everyone has a first name)."""

    def __missing__(self, key: str) -> str:
        return ""


@lru_cache(maxsize=256)
def _compiled(html: bool, source: str) -> Any:
    # a batch renders the same three templates thousands of times: compile once
    return (_HTML_ENV if html else _TEXT_ENV).from_string(source)


def _render(env: Any, source: str, scope: dict[str, Any], field: str) -> str:
    if len(source) > ex.MAX_TEMPLATE_CHARS:
        raise NodeConfigError(f"{field} template is longer than {ex.MAX_TEMPLATE_CHARS} characters", pointer=f"/{field}")
    token = ex._budget.set(ex._Budget(ex.RENDER_TIME_LIMIT_S))
    try:
        out, size = [], 0
        for chunk in _compiled(env is _HTML_ENV, source).generate(scope):
            size += len(chunk)
            if size > ex.MAX_OUTPUT_CHARS:
                raise ex._LimitExceeded(f"rendered text is longer than {ex.MAX_OUTPUT_CHARS} characters")
            out.append(chunk)
            ex._check_time()
        return "".join(out)
    except ex._LimitExceeded as e:
        raise NodeConfigError(f"{field} template stopped: {e}", pointer=f"/{field}") from None
    except TemplateError as e:
        where = f" (line {e.lineno})" if getattr(e, "lineno", None) else ""
        raise NodeConfigError(f"{field} template error{where}: {e.message or e}", pointer=f"/{field}") from None
    except (RecursionError, MemoryError) as e:
        raise NodeConfigError(f"{field} template error: {type(e).__name__}", pointer=f"/{field}") from None
    except NodeConfigError:
        raise
    except Exception as e:  # a filter failed on the data
        raise NodeConfigError(f"{field} template error: {type(e).__name__}: {e}", pointer=f"/{field}") from None
    finally:
        ex._budget.reset(token)


def inline_css(html: str) -> str:
    if "<style" not in html.lower():
        return html
    try:
        return _INLINER.inline(html)
    except ValueError as e:
        raise NodeConfigError(f"html: CSS could not be inlined: {e}", pointer="/html") from None


class _Text(HTMLParser):
    _BLOCKS = {"p", "div", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "li", "table", "ul", "ol", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        elif tag in self._BLOCKS:
            self.out.append("\n")
            if tag == "li":
                self.out.append("- ")
        elif tag == "a":
            self.href = dict(attrs).get("href")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("p", "div", "h1", "h2", "h3", "table"):
            self.out.append("\n")
        elif tag == "a" and self.href:
            if self.href.startswith(("http", "mailto:")):
                self.out.append(f" ({self.href})")
            self.href = None

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render_email(templates: dict[str, str], scope: dict[str, Any]) -> dict[str, str]:
    """{subject, html, text} from their templates; text is generated from html when absent."""
    subject = _render(_TEXT_ENV, templates.get("subject") or "", scope, "subject").strip()
    html = _render(_HTML_ENV, templates["html"], scope, "html") if templates.get("html") else ""
    html = inline_css(html) if html else ""
    text = _render(_TEXT_ENV, templates["text"], scope, "text") if templates.get("text") else ""
    if not text and html:
        text = html_to_text(html)
    if not html and not text:
        raise NodeConfigError("the email has neither an HTML nor a text body", pointer="/html")
    if len(html.encode()) + len(text.encode()) > MAX_EMAIL_BYTES:
        raise NodeConfigError(f"the email is larger than {MAX_EMAIL_BYTES} bytes", pointer="/html")
    return {"subject": subject, "html": html, "text": text}


def escape(value: str) -> str:
    return htmlmod.escape(value, quote=True)
