"""An n8n workflow export to a graph document, a report, and what the backend creates.

`convert(raw)` is pure: it checks the export (templates/n8n/document.py), maps each node
(nodes.py, logic.py, services.py), turns connections into edges (connections.py), and keeps what
it cannot map as sticky notes holding the original node JSON. Every n8n node gets one report line
`{node, n8n_type, status: mapped|partial|unmapped, notes, node_ids}`; nothing is dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from flows.secrets_scan import without_secrets
from templates.n8n import logic, nodes, services
from templates.n8n.connections import edges
from templates.n8n.document import check_export, node_ids
from templates.n8n.expressions import Scope
from templates.n8n.model import N8N_PREFIX, CredentialNeed, Mapped, NodeIn, TriggerNeed, Unmapped

MAX_NOTE_TEXT = 10_000               # StickyNote.text
_COLORS = {1: "yellow", 2: "yellow", 3: "pink", 4: "green", 5: "blue", 6: "pink", 7: "gray"}
_NOTE_TYPE = "stickyNote"
_SCHEDULES = ("scheduleTrigger", "cron")


@dataclass
class N8nImport:
    graph: dict[str, Any]
    report: list[dict[str, Any]]
    credentials: list[CredentialNeed] = field(default_factory=list)
    triggers: list[TriggerNeed] = field(default_factory=list)


def _mapper(short: str, timezone: str) -> Callable[[NodeIn], Mapped] | None:
    if short in _SCHEDULES:
        return lambda n: services.schedule(n, timezone)
    table: dict[str, Callable[[NodeIn], Mapped]] = {
        **nodes.MAPPERS, **logic.MAPPERS, "httpRequest": services.http_request, "emailSend": services.send_email,
        "respondToWebhook": services.respond_to_webhook}
    return table.get(short)


def _map_one(raw: dict[str, Any], node_id: str, scope: Scope, timezone: str) -> tuple[Mapped | None, NodeIn, str]:
    full = raw["type"]
    short = full.removeprefix(N8N_PREFIX) if full.startswith(N8N_PREFIX) else ""
    n = NodeIn(id=node_id, name=raw["name"], type=short, version=float(raw["typeVersion"]), params=raw["parameters"],
               credentials=raw["credentials"], position=raw["position"], scope=scope)
    mapper = _mapper(short, timezone)
    if mapper is None:
        return None, n, f"{full} has no equivalent node type here"
    try:
        return mapper(n), n, ""
    except Unmapped as exc:
        return None, n, str(exc)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # parameters of a shape no n8n version writes (hand-edited exports): a note, never a 500
        n.notes.clear()
        return None, n, f"its parameters are not in a shape this import knows ({type(exc).__name__}: {exc})"[:500]


def _settings(raw: dict[str, Any], m: Mapped, n: NodeIn) -> None:
    """n8n's per-node settings: retries and what a failure does."""
    cfg = m.nodes[-1]["config"]
    tries, wait_ms = raw.get("maxTries", 3), raw.get("waitBetweenTries", 1000)
    if raw.get("retryOnFail") and _number(tries) and _number(wait_ms):
        cfg["retries"] = max(0, min(10, int(tries) - 1))
        cfg["retry_backoff_s"] = min(600.0, max(0.0, float(wait_ms) / 1000))
    elif raw.get("retryOnFail"):
        n.notes.append(f"Retry On Fail with maxTries {tries!r} / waitBetweenTries {wait_ms!r} was left out")
    on_error = raw.get("onError") or ("continueRegularOutput" if raw.get("continueOnFail") else "")
    if on_error == "continueRegularOutput":
        cfg["on_error"] = "continue"
    elif on_error == "continueErrorOutput":
        cfg["on_error"] = "branch"
        m.outputs[max(m.outputs, default=-1) + 1] = [(m.nodes[-1]["id"], "error")]
    if raw.get("disabled"):
        n.notes.append("disabled in n8n (which passes items through): it runs here; remove it if not wanted")
    if raw.get("notes"):
        n.notes.append(f"n8n note: {str(raw['notes'])[:500]}")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e9


def _sticky(raw: dict[str, Any], note_id: str) -> dict[str, Any]:
    p = raw["parameters"]

    def size(key: str, default: float) -> float:
        v = p.get(key, default)
        return min(4000.0, max(40.0, float(v))) if _number(v) else default

    color = p.get("color", 1)
    return {"id": note_id, "text": str(p.get("content", ""))[:MAX_NOTE_TEXT], "position": raw["position"],
            "width": size("width", 240), "height": size("height", 160),
            "color": _COLORS.get(color, "yellow") if isinstance(color, int) else "yellow"}


def _unmapped_note(raw: dict[str, Any], original: dict[str, Any], note_id: str,
                   reason: str) -> tuple[dict[str, Any], bool, int]:
    """A note holding the node's JSON as it was in the export, less what looks like a secret (a note
    is part of the graph, where secrets never go); True when it had to be cut to fit, and how many
    values were removed."""
    kept, removed = without_secrets(original)
    head = f"Not imported from n8n: {raw['name']} ({raw['type']})\n{reason}\n\n"
    body = "```json\n" + json.dumps(kept, indent=2, ensure_ascii=False) + "\n```"
    text = head + body
    cut = len(text) > MAX_NOTE_TEXT
    if cut:
        text = text[:MAX_NOTE_TEXT - 20] + "\n… (cut)\n```"
    return {"id": note_id, "text": text, "position": raw["position"], "width": 360, "height": 280,
            "color": "pink"}, cut, removed


def convert(raw: Any) -> N8nImport:
    doc = check_export(raw)
    originals = {n["name"]: n for n in raw["nodes"]}
    timezone = (doc.get("settings") or {}).get("timezone") or "DEFAULT"
    tz = "UTC" if timezone == "DEFAULT" else str(timezone)
    real = [n for n in doc["nodes"] if n["type"] != N8N_PREFIX + _NOTE_TYPE]
    ids = node_ids([n["name"] for n in doc["nodes"]], {n["name"] for n in real if n["type"] == N8N_PREFIX + "emailSend"})
    exits = {n["name"]: ids[n["name"]] + ("_send" if n["type"] == N8N_PREFIX + "emailSend" else "") for n in real}
    failed: dict[str, str] = {}
    while True:       # a reference to a node that turns out unmapped is re-noted; at most one pass per node
        names = {k: v for k, v in exits.items() if k not in failed}
        results = {n["name"]: _map_one(n, ids[n["name"]], Scope(names), tz) for n in real}
        new = {k: why for k, (m, _, why) in results.items() if m is None and k not in failed}
        if not new:
            break
        failed.update(new)
    mapped = {k: m for k, (m, _, _) in results.items() if m is not None}
    notes_by_name: dict[str, list[str]] = {k: n.notes for k, (_, n, _) in results.items()}
    for n in real:
        if n["name"] in mapped:
            _settings(n, mapped[n["name"]], results[n["name"]][1])
    graph_edges, joins = edges(doc["connections"], mapped, notes_by_name)
    report, graph_nodes, graph_notes = [], [], []
    out = N8nImport(graph={}, report=report)
    for n in doc["nodes"]:
        name = n["name"]
        if n["type"] == N8N_PREFIX + _NOTE_TYPE:
            graph_notes.append(_sticky(n, ids[name]))
            report.append({"node": name, "n8n_type": n["type"], "status": "mapped", "notes": ["a canvas note"],
                           "node_ids": []})
            continue
        lines = notes_by_name.get(name, [])
        m = mapped.get(name)
        if m is None:
            note, cut, removed = _unmapped_note(n, originals[name], ids[name], failed[name])
            graph_notes.append(note)
            extra = ["kept as a canvas note holding its n8n JSON" + (" (cut to 10,000 characters)" if cut else "")]
            if removed:
                extra.append(f"{removed} value(s) that looked like secrets were left out of the note; "
                             "enter them in a credential")
            report.append({"node": name, "n8n_type": n["type"], "status": "unmapped",
                           "notes": [failed[name], *extra, *lines], "node_ids": []})
            continue
        graph_nodes += m.nodes
        out.credentials += m.credentials
        out.triggers += m.triggers
        status = "partial" if m.status == "partial" or lines else "mapped"
        report.append({"node": name, "n8n_type": n["type"], "status": status, "notes": lines,
                       "node_ids": [x["id"] for x in m.nodes]})
    if any(t.type == "schedule" for t in out.triggers) and timezone == "DEFAULT":
        for r in report:
            if r["node_ids"] and any(t.node_id in r["node_ids"] for t in out.triggers if t.type == "schedule"):
                r["notes"].append("the export names no time zone (n8n used its instance's): the schedule runs in UTC")
                r["status"] = "partial" if r["status"] == "mapped" else r["status"]
    out.graph = {"schema_version": 1, "name": doc["name"][:200] or "Imported from n8n", "nodes": graph_nodes + joins,
                 "edges": graph_edges, "notes": graph_notes}
    return out
