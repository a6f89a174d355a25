"""verify.content: is a composed email fit to send? Unsubscribe link, sender and postal
address (CAN-SPAM), spam phrases, broken or unsafe links, images without alt text, size."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from nodes.email.headers import check_address
from nodes.net import SafeHttpClient, check_url
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeError, NodeSpec, Port
from nodes.verify.content_checks import (finding, has_postal_address, has_unsubscribe, link_problems, scan_html,
                                         spam_score)

SPEC = NodeSpec(
    type="verify.content",
    version=1,
    title="Check email content",
    category="verify",
    icon="shield-check",
    description="Checks a composed email (the output of email.compose) and outputs {passed, findings, "
                "spam_score}. Links are fetched through the same private-address guard as http.request.",
    inputs=(Port("message", "object", "The output of email.compose"),),
    outputs=(Port("output", "object", "{passed, findings, spam_score, spam_hits, size_bytes}"),),
)


class Config(NodeConfig):
    sender: str = Field(default="", description="The From address that will be used (CAN-SPAM sender identity)")
    require_postal_address: bool = Field(default=True)
    spam_threshold: float = Field(default=5.0, ge=0, description="Fail at this spam score or above")
    check_links: bool = Field(default=True, description="Fetch each link (HEAD, then GET) to find broken ones")
    max_links: int = Field(default=30, ge=0, le=200)
    max_size_bytes: int = Field(default=102_000, ge=1_000, description="Gmail clips HTML above ~102 KB")


async def _fetch(http: SafeHttpClient, href: str) -> dict[str, Any] | None:
    try:
        await check_url(href, http.allowed_hosts)
        resp = await http.request("HEAD", href)
        if resp.status in (405, 501):  # some servers refuse HEAD
            resp = await http.request("GET", href)
    except NodeConfigError as exc:
        blocked = "private or reserved" in exc.message or "only http" in exc.message or "numeric" in exc.message
        return finding("links", "error", ("unsafe link: " if blocked else "broken link: ") + exc.message, href=href)
    except NodeError as exc:
        return finding("links", "warning", f"link did not answer: {exc}", href=href)
    if resp.status >= 400:
        return finding("links", "error", f"broken link: {resp.status}", href=href)
    return None


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    msg = inputs.get("message")
    if not isinstance(msg, dict):
        raise NodeConfigError("connect the output of email.compose to `message`", pointer="/inputs/message")
    subject, html, text = str(msg.get("subject", "")), str(msg.get("html", "")), str(msg.get("text", ""))
    found: list[dict[str, Any]] = []
    scan = scan_html(html)
    if not has_unsubscribe(html, text, scan.links):
        found.append(finding("unsubscribe", "error", "no unsubscribe link in the body (use {{ unsubscribe_url }})"))
    sender = config.sender or str(msg.get("sender", ""))
    if not sender:
        found.append(finding("sender", "error", "no sender address given to check"))
    else:
        try:
            check_address(sender, "sender", pointer="/sender")
        except NodeConfigError as exc:
            found.append(finding("sender", "error", exc.message))
    if config.require_postal_address and not has_postal_address(text or html):
        found.append(finding("postal_address", "error", "no physical postal address found (CAN-SPAM requires one)"))
    score, hits = spam_score(subject, text)
    if score >= config.spam_threshold:
        found.append(finding("spam", "error", f"spam score {score} is at or above {config.spam_threshold}", hits=hits))
    elif hits:
        found.append(finding("spam", "warning", f"spam-like phrases (score {score})", hits=hits))
    for img in scan.images:
        if not (img["alt"] or "").strip() and img["alt"] != "":  # alt="" is a valid decorative image
            found.append(finding("images", "warning", "image without alt text", src=(img["src"] or "")[:200]))
    to_fetch = []
    for link in scan.links:
        problems = link_problems(link)
        found.extend(problems)
        if not any(p["severity"] == "error" for p in problems) and link["href"].lower().startswith(("http://", "https://")):
            to_fetch.append(link["href"])
    to_fetch = list(dict.fromkeys(to_fetch))[: config.max_links]
    if config.check_links and to_fetch:
        http = ctx.http or SafeHttpClient.from_env()
        try:
            found.extend(f for f in await asyncio.gather(*(_fetch(http, h) for h in to_fetch)) if f)
        finally:
            if ctx.http is None:
                await http.aclose()
    size = len(html.encode()) + len(text.encode())
    if len(html.encode()) > config.max_size_bytes:
        found.append(finding("size", "warning", f"HTML is {len(html.encode())} bytes; Gmail clips above "
                                                f"{config.max_size_bytes}"))
    passed = not any(f["severity"] == "error" for f in found)
    return {"output": {"passed": passed, "findings": found, "spam_score": score, "spam_hits": hits,
                       "size_bytes": size}}
