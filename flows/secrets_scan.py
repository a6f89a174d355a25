"""Literal secrets in a graph: what a pasted graph or an imported template should not carry.

Looks at every string in every node's config for a `Bearer <token>` or `Basic <base64>`
credential, a key-shaped string (sk-..., ghp_..., xoxb-..., AKIA..., or a long high-entropy
token), or a chat webhook URL (Slack, Discord, Teams: whoever holds one can post, so it belongs
in a webhook_url credential). `{{ expressions }}` are never reported: they are references, not values. A finding
names the node and a JSON pointer into its config, and never repeats the value itself.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

from flows.pointer import pointer

_EXPR = re.compile(r"\{\{.*?\}\}", re.S)
_TOKEN = r"[A-Za-z0-9._~+/=-]"
_BEARER = re.compile(rf"\bBearer\s+({_TOKEN}{{20,}})", re.I)
_BASIC = re.compile(r"\bBasic\s+([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])", re.I)
_KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])("
    r"sk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{20,}"          # OpenAI, Anthropic, Stripe
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"                             # Slack
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"                                 # AWS access key id
    r"|AIza[0-9A-Za-z_-]{35}"                                     # Google API key
    r"|glpat-[A-Za-z0-9_-]{20,}"                                  # GitLab
    r"|(?:rk|pk|sk)_(?:live|test)_[A-Za-z0-9]{16,}"               # Stripe restricted/secret
    r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"                 # SendGrid
    r")(?![A-Za-z0-9])")
_CHAT_WEBHOOK = re.compile(
    r"https://(?:"
    r"hooks\.slack\.com/(?:services|workflows|triggers)/\S+"
    r"|(?:ptb\.|canary\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/\S+"
    r"|[\w.-]+\.webhook\.office\.com/webhookb2/\S+"
    r"|[\w.-]+\.(?:logic\.azure\.com|powerplatform\.com|powerautomate\.com)(?::\d+)?/\S*workflows/\S*[?&]sig=\S+"
    r")", re.I)
_OPAQUE = re.compile(r"[A-Za-z0-9_+/=-]{32,}")
_QUERY_PARENTS = {"query", "params", "query_params", "querystring"}
_HEADER_PARENTS = {"headers", "header"}
_MAX_FINDINGS = 200


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def _opaque_token(value: str) -> bool:
    """A long random-looking token: letters AND digits, high entropy (not a word, a UUID or hex id)."""
    if not _OPAQUE.fullmatch(value):
        return False
    has_mix = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    return has_mix and any(c.isupper() for c in value) and any(c.islower() for c in value) and entropy(value) >= 4.0


def _basic(value: str) -> bool:
    try:
        return b":" in base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False


def _classify(text: str) -> tuple[str, str] | None:
    """(kind, what) of the first secret-looking thing in text, or None."""
    if _CHAT_WEBHOOK.search(text):
        return "key", "a chat webhook URL"
    if _BEARER.search(text):
        return "bearer", "a literal bearer token"
    m = _BASIC.search(text)
    if m and _basic(m.group(1)):
        return "basic", "a literal basic-auth password"
    if _KEY_SHAPES.search(text):
        return "key", "a key-shaped value"
    if _opaque_token(text.strip()):
        return "key", "a long random-looking token"
    return None


def _strings(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))


def _in_url_query(text: str) -> bool:
    try:
        query = urlsplit(text).query
    except ValueError:
        return False
    return any(_classify(v) for _, v in parse_qsl(query))


def _suggested(kind: str, path: tuple[Any, ...], text: str) -> str:
    if _CHAT_WEBHOOK.search(text):
        return "webhook_url"
    if kind in ("bearer", "basic"):
        return kind
    parent = str(path[-2]).lower() if len(path) >= 2 else ""
    if parent in _QUERY_PARENTS or (text.startswith(("http://", "https://")) and _in_url_query(text)):
        return "query"
    return "header"


def scan_node(node: dict[str, Any]) -> list[dict[str, Any]]:
    config = node.get("config")
    if not isinstance(config, dict):
        return []
    node_id, out = str(node.get("id", "")), []
    for path, raw in _strings(config):
        text = _EXPR.sub(" ", raw)   # expressions are references, never secrets
        if len(text.strip()) < 16:
            continue
        found = _classify(text)
        if found is None:
            continue
        kind, what = found
        suggested = _suggested(kind, path, text)
        field = pointer(*path)
        out.append({"node_id": node_id, "field": field, "kind": kind, "suggested_type": suggested,
                    "message": f"node {node_id}: {field} holds {what}; move it into a {suggested} credential"})
    return out


REMOVED = "[removed on import: it looked like a secret; keep it in a credential]"


def without_secrets(value: Any) -> tuple[Any, int]:
    """A copy of a JSON value with every secret-looking string (as scan_node judges them) replaced
    by REMOVED, and how many were: for text that lands where no credential can hold it (a note)."""
    if isinstance(value, str):
        text = _EXPR.sub(" ", value)
        return (REMOVED, 1) if len(text.strip()) >= 16 and _classify(text) else (value, 0)
    if isinstance(value, dict):
        pairs = [(k, *without_secrets(v)) for k, v in value.items()]
        return {k: v for k, v, _ in pairs}, sum(n for _, _, n in pairs)
    if isinstance(value, list):
        items = [without_secrets(v) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    return value, 0


def scan_graph(graph: Any) -> list[dict[str, Any]]:
    """Findings over every node of a graph document ({"nodes": [...]})."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    findings: list[dict[str, Any]] = []
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict):
            findings.extend(scan_node(node))
        if len(findings) >= _MAX_FINDINGS:
            return findings[:_MAX_FINDINGS]
    return findings
