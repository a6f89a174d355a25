"""One ASGI app (served by uvicorn on loopback) speaking what Slack, Discord and Teams document for
the calls the chat nodes make, with their documented refusals:

* Slack Web API  POST /slack/api/chat.postMessage   Bearer token; HTTP 200 {ok, channel, ts, message}
  or {ok: false, error: not_authed | invalid_auth | channel_not_found | no_text | invalid_blocks_format}
* Slack webhook  POST /slack/services/T0/B0/<secret>   "ok"; 400 no_text / invalid_payload; 404 no_service
* Discord        POST /discord/webhooks/<id>/<token>[?wait=true]   204, or 200 and the message;
  401 {code 50027}, 404 {code 10015}, 400 {code 50006 | 50035 with `errors`}
* Teams          POST /teams/workflows/<sig>   202 for a message with an Adaptive Card attachment;
  400/401 {error: {code, message}};  POST /teams/connector/<sig>   200 "1" for a MessageCard, 400 text.

`script` queues answers given before the documented ones (a 429 with Retry-After, a 503, HANG: no
answer until the test ends); `seen` records every request (path, query, headers, JSON body).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

SLACK_TOKEN = "xoxb-1111-2222-MARKERtoken"
SLACK_CHANNEL = "C0123CHAN"
SLACK_HOOK = "/slack/services/T0/B0/MARKERslackhook"
DISCORD_HOOK = "/discord/webhooks/123456/MARKERdiscordtoken"
TEAMS_FLOW = "/teams/workflows/MARKERteamsflow"
TEAMS_CONNECTOR = "/teams/connector/MARKERteamsconn"
HANG = "hang"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


@dataclass
class Answer:
    status: int
    body: Any = b""                        # bytes/str as is; anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "text/plain; charset=utf-8"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class ChatApi:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.script: list[Answer | str] = []
        self.release = asyncio.Event()

    def reset(self) -> None:
        self.seen.clear()
        self.script.clear()
        self.release = asyncio.Event()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        self.seen.append(Seen(scope["path"], query, headers, body))
        answer = self.script.pop(0) if self.script else self._documented(scope["path"], query, headers, body)
        if answer == HANG:
            await self.release.wait()
            answer = Answer(200, "ok")
        payload, ctype = answer.encoded()
        out = [(b"content-type", ctype.encode()), *((k.encode(), v.encode()) for k, v in answer.headers.items())]
        await send({"type": "http.response.start", "status": answer.status, "headers": out})
        await send({"type": "http.response.body", "body": payload if answer.status != 204 else b""})

    def _documented(self, path: str, query: dict[str, str], headers: dict[str, str], body: Any) -> Answer:
        if path == "/slack/api/chat.postMessage":
            return _slack_api(headers, body)
        if path.startswith("/slack/services/"):
            return _slack_webhook(path, body)
        if path.startswith("/discord/webhooks/"):
            return _discord(path, query, body)
        if path.startswith("/teams/"):
            return _teams(path, body)
        return Answer(404, "not found")


def _slack_api(headers: dict[str, str], body: Any) -> Answer:
    auth = headers.get("authorization", "")
    if not auth:
        return Answer(200, {"ok": False, "error": "not_authed"})
    if auth != f"Bearer {SLACK_TOKEN}":
        return Answer(200, {"ok": False, "error": "invalid_auth"})
    if not headers.get("content-type", "").startswith("application/json") or not isinstance(body, dict):
        return Answer(200, {"ok": False, "error": "invalid_arguments"})
    if body.get("channel") not in (SLACK_CHANNEL, "#general"):
        return Answer(200, {"ok": False, "error": "channel_not_found"})
    if "blocks" in body and not isinstance(body["blocks"], list):
        return Answer(200, {"ok": False, "error": "invalid_blocks_format"})
    if not body.get("text") and not body.get("blocks"):
        return Answer(200, {"ok": False, "error": "no_text"})
    message = {"type": "message", "text": body.get("text", ""), "bot_id": "B0BOT", "ts": "1700000000.000200"}
    for key in ("blocks", "thread_ts"):
        if key in body:
            message[key] = body[key]
    return Answer(200, {"ok": True, "channel": SLACK_CHANNEL, "ts": message["ts"], "message": message})


def _slack_webhook(path: str, body: Any) -> Answer:
    if path != SLACK_HOOK:
        return Answer(404, "no_service")
    if not isinstance(body, dict) or ("blocks" in body and not isinstance(body["blocks"], list)):
        return Answer(400, "invalid_payload")
    if not body.get("text") and not body.get("blocks"):
        return Answer(400, "no_text")
    return Answer(200, "ok")


def _discord(path: str, query: dict[str, str], body: Any) -> Answer:
    if not path.startswith("/discord/webhooks/123456/"):
        return Answer(404, {"message": "Unknown Webhook", "code": 10015})
    if path != DISCORD_HOOK:
        return Answer(401, {"message": "Invalid Webhook Token", "code": 50027})
    body = body if isinstance(body, dict) else {}
    if not body.get("content") and not body.get("embeds"):
        return Answer(400, {"message": "Cannot send an empty message", "code": 50006})
    errors = {}
    if len(body.get("content", "")) > 2000:
        errors["content"] = {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}
    if not all(isinstance(e, dict) and ("title" in e or "description" in e) for e in body.get("embeds", [])):
        errors["embeds"] = {"0": {"_errors": [{"code": "EMBED_EMPTY", "message": "Embed is empty"}]}}
    if errors:
        return Answer(400, {"message": "Invalid Form Body", "code": 50035, "errors": errors})
    if query.get("wait") != "true":
        return Answer(204)
    return Answer(200, {"id": "1180000000000000001", "channel_id": "1170000000000000002", "type": 0,
                        "content": body.get("content", ""), "embeds": body.get("embeds", []),
                        "author": {"bot": True, "id": "123456", "username": body.get("username", "Maily")}})


def _teams(path: str, body: Any) -> Answer:
    if path == TEAMS_CONNECTOR:
        if not isinstance(body, dict) or not (body.get("text") or body.get("summary")):
            return Answer(400, "Summary or Text is required.")
        return Answer(200, "1")
    if path != TEAMS_FLOW:
        return Answer(401, {"error": {"code": "DirectApiAuthorizationRequired",
                                      "message": "The request must be authenticated."}})
    attachments = body.get("attachments") if isinstance(body, dict) else None
    good = (isinstance(attachments, list) and attachments and attachments[0].get("contentType") == ADAPTIVE
            and attachments[0].get("content", {}).get("type") == "AdaptiveCard")
    if not good or body.get("type") != "message":
        return Answer(400, {"error": {"code": "InvalidRequestContent",
                                      "message": "The message has no Adaptive Card attachment."}})
    return Answer(202)
