"""n8n nodes that talk to the outside: HTTP Request, Send Email, Respond to Webhook, and the
schedule triggers (Schedule Trigger, the older Cron), which become a trigger.manual node plus a
schedule the backend creates (disabled)."""

from __future__ import annotations

import json
from typing import Any

from flows.cron import CronError, check_cron
from templates.n8n.expressions import Scope, is_expression
from templates.n8n.model import CredentialNeed, Mapped, NodeIn, TriggerNeed, Unmapped

# n8n credential type -> ours (backend/credentials/types.py), for HTTP Request
HTTP_CREDENTIALS = {"httpBasicAuth": "basic", "httpHeaderAuth": "header", "httpQueryAuth": "query",
                    "httpBearerAuth": "bearer", "oAuth2Api": "oauth2"}
_V1_AUTH = {"basicAuth": "httpBasicAuth", "headerAuth": "httpHeaderAuth", "queryAuth": "httpQueryAuth",
            "oAuth2": "oAuth2Api", "digestAuth": "httpDigestAuth"}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _pairs(n: NodeIn, items: Any, where: str) -> dict[str, Any]:
    return {str(i.get("name", "")): n.expr(i.get("value", ""), f"{where}[{k}]")
            for k, i in enumerate(items or []) if isinstance(i, dict)}


def _credential(n: NodeIn) -> CredentialNeed | None:
    p = n.params
    auth = p.get("authentication", "none")
    if auth == "none":
        return None
    if auth == "predefinedCredentialType":
        kind = p.get("nodeCredentialType", "")
        n.notes.append(f"the {kind} credential of n8n has no equivalent type: set the auth up by hand")
        return None
    kind = p.get("genericAuthType", "") if auth == "genericCredentialType" else _V1_AUTH.get(auth, auth)
    ours = HTTP_CREDENTIALS.get(kind)
    if ours is None:
        n.notes.append(f"the {kind} authentication has no equivalent: set the auth up by hand")
        return None
    ref = n.credentials.get(kind) or {}
    name = str(ref.get("name") or f"{n.name} {kind}")
    return CredentialNeed(type=ours, name=f"{name} (from n8n)"[:200], n8n_type=kind, node_id=n.id)


def http_request(n: NodeIn) -> Mapped:
    p = n.params
    method = p.get("method" if n.version >= 3 else "requestMethod", "GET")
    if method not in _METHODS:
        raise Unmapped(f"HTTP method {method!r}")
    config: dict[str, Any] = {"method": method, "url": n.expr(p.get("url", ""), "url")}
    if n.version >= 3:
        if p.get("sendQuery"):
            if p.get("specifyQuery", "keypair") != "keypair":
                raise Unmapped("query parameters given as JSON")
            config["query"] = _pairs(n, (p.get("queryParameters") or {}).get("parameters"), "queryParameters")
        if p.get("sendHeaders"):
            if p.get("specifyHeaders", "keypair") != "keypair":
                raise Unmapped("headers given as JSON")
            config["headers"] = _pairs(n, (p.get("headerParameters") or {}).get("parameters"), "headerParameters")
        if p.get("sendBody"):
            config.update(_body(n))
    else:
        if p.get("jsonParameters"):
            raise Unmapped("v1/v2 JSON parameters")
        config["query"] = _pairs(n, (p.get("queryParametersUi") or {}).get("parameter"), "queryParametersUi")
        config["headers"] = _pairs(n, (p.get("headerParametersUi") or {}).get("parameter"), "headerParametersUi")
        body = _pairs(n, (p.get("bodyParametersUi") or {}).get("parameter"), "bodyParametersUi")
        if body:
            config["body"] = body
    m = n.single("http.request", {k: v for k, v in config.items() if v not in ({}, None)})
    need = _credential(n)
    if need is not None:
        m.credentials.append(need)
    n.ignored("options")
    return m


def _body(n: NodeIn) -> dict[str, Any]:
    p = n.params
    ctype = p.get("contentType", "json")
    if ctype == "raw":
        return {"body": n.expr(p.get("body", ""), "body"), "body_type": "text"}
    if ctype != "json":
        raise Unmapped(f"a {ctype} body (only JSON and raw text map)")
    if p.get("specifyBody", "keypair") == "keypair":
        return {"body": _pairs(n, (p.get("bodyParameters") or {}).get("parameters"), "bodyParameters")}
    raw = p.get("jsonBody", "")
    if is_expression(raw):
        return {"body": n.expr(raw, "jsonBody")}
    try:
        return {"body": n.expr(json.loads(raw), "jsonBody")}
    except (TypeError, ValueError):
        raise Unmapped("a JSON body that does not parse") from None


def send_email(n: NodeIn) -> Mapped:
    p = n.params
    if p.get("operation", "send") != "send":
        raise Unmapped(f"Send Email's {p.get('operation')} operation")
    cid, sid = n.id, n.id + "_send"
    # email.send's input is the composed message: n8n's $json there is compose's input, passed along in data
    send_scope = Scope(n.scope.names, json_root=f"nodes.{cid}.output.data.item")
    to = p.get("toEmail", "")
    to = n.expr(to, "toEmail", send_scope) if is_expression(to) else [a.strip() for a in str(to).split(",") if a.strip()]
    send = {"sender": n.expr(p.get("fromEmail", ""), "fromEmail", send_scope), "to": to, "unsubscribe": False}
    fmt = p.get("emailFormat", "text" if n.version < 2 else "html")
    compose: dict[str, Any] = {"subject": n.expr(p.get("subject", ""), "subject")}
    if fmt in ("html", "both") or (n.version < 2 and p.get("html")):
        compose["html"] = n.expr(p.get("html", ""), "html")
    if fmt in ("text", "both") or n.version < 2:
        compose["text"] = n.expr(p.get("text", ""), "text")
    if "nodes." + cid + ".output.data.item" in json.dumps(send):
        compose["data"] = {"item": "{{ input }}"}
    nodes = [n.node("email.compose", compose, label=f"{n.name} (compose)"),
             n.node("email.send", send, suffix="_send", dx=200)]
    m = Mapped(nodes, (cid, "input"), {0: [(sid, "output")]}, status="partial",
               edges=[{"source": cid, "source_port": "output", "target": sid, "target_port": "message"}])
    n.notes.append("sent through the workspace's email provider (n8n's SMTP credential is not used)")
    n.ignored("ccEmail", "bccEmail", "attachments")
    return m


def respond_to_webhook(n: NodeIn) -> Mapped:
    p = n.params
    opts = p.get("options") or {}
    kind = p.get("respondWith", "firstIncomingItem")
    if kind == "firstIncomingItem":
        body: Any = "{{ input }}"
    elif kind == "allIncomingItems":
        body = "{{ [input] }}"
    elif kind == "text":
        body = n.expr(p.get("responseBody", ""), "responseBody")
    elif kind == "json":
        raw = p.get("responseBody", "")
        if is_expression(raw):
            body = n.expr(raw, "responseBody")
        else:
            try:
                body = n.expr(json.loads(raw), "responseBody")
            except (TypeError, ValueError):
                raise Unmapped("a JSON response body that does not parse") from None
    elif kind == "noData":
        body = ""
    else:
        raise Unmapped(f"responding with {kind}")
    headers = {str(e.get("name", "")): str(e.get("value", ""))
               for e in (opts.get("responseHeaders") or {}).get("entries") or []}
    config = {"status": opts.get("responseCode", 200), "headers": n.expr(headers, "responseHeaders"), "body": body}
    return n.single("webhook.respond", config)


# --- schedules ----------------------------------------------------------------------------

def _cron_of(n: NodeIn, rule: dict[str, Any]) -> str:
    f = rule.get("field", "days")
    m, h = rule.get("triggerAtMinute", 0), rule.get("triggerAtHour", 0)
    if f == "cronExpression":
        expr = " ".join(str(rule.get("expression", "")).split())
        parts = expr.split(" ")
        if len(parts) == 6 and parts[0] == "0":      # n8n's optional seconds field, at second 0
            expr = " ".join(parts[1:])
        return expr
    if f == "minutes":
        return f"*/{rule.get('minutesInterval', 5)} * * * *"
    if f == "hours":
        return f"{m} */{rule.get('hoursInterval', 1)} * * *"
    if f == "days":
        every = rule.get("daysInterval", 1)
        if every != 1:
            n.notes.append(f"every {every} days is counted from the 1st of each month here")
        return f"{m} {h} {'*' if every == 1 else f'*/{every}'} * *"
    if f == "weeks":
        if rule.get("weeksInterval", 1) != 1:
            raise Unmapped(f"every {rule.get('weeksInterval')} weeks (cron has no week interval)")
        days = rule.get("triggerAtDay") or [0]
        return f"{m} {h} * * {','.join(str(d) for d in days)}"
    if f == "months":
        every = rule.get("monthsInterval", 1)
        return f"{m} {h} {rule.get('triggerAtDayOfMonth', 1)} {'*' if every == 1 else f'*/{every}'} *"
    raise Unmapped(f"a schedule every few {f} (cron's smallest step is a minute)")


def _old_cron(item: dict[str, Any]) -> str:
    mode = item.get("mode", "everyDay")
    m, h = item.get("minute", 0), item.get("hour", 14)
    crons = {"everyMinute": "* * * * *", "everyHour": f"{m} * * * *", "everyDay": f"{m} {h} * * *",
             "everyWeek": f"{m} {h} * * {item.get('weekday', 1)}",
             "everyMonth": f"{m} {h} {item.get('dayOfMonth', 1)} * *", "custom": item.get("cronExpression", "")}
    if mode not in crons:
        raise Unmapped(f"the Cron mode {mode!r}")
    return str(crons[mode])


def schedule(n: NodeIn, timezone: str) -> Mapped:
    if n.type == "cron":
        crons = [_old_cron(i) for i in (n.params.get("triggerTimes") or {}).get("item") or [{}]]
    else:
        crons = [_cron_of(n, r) for r in (n.params.get("rule") or {}).get("interval") or [{}]]
    m = n.single("trigger.manual", {}, entry_port=None)
    for cron in crons:
        try:
            cron = check_cron(cron)
        except CronError as exc:
            raise Unmapped(f"the schedule {cron!r}: {exc}") from None
        m.triggers.append(TriggerNeed("schedule", n.id, {"cron": cron, "timezone": timezone}))
    return m
