"""Templates: the gallery (built-in files + saved/uploaded rows), import into a workflow
draft, save as template, sharing, and updates merged into drafts.

Visibility of a saved template: `private` (its owner only), `workspace` (everyone in its
tenant), `public` (every tenant of this deployment). Anything the caller may not see is
simply not found (404). Only its owner edits or deletes it. Built-ins are public and
read-only. Nothing here renders, runs, fetches or resolves anything from a template.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.schemas import Principal
from backend.db.models import looks_like_id, utcnow
from backend.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable
from backend.templates.models import Template, TemplateLink
from backend.templates.schemas import ImportIn, SaveAsTemplateIn, TemplateUpdateIn
from backend.triggers import services as trigger_services
from backend.triggers.schemas import ScheduleCreateIn, WebhookCreateIn
from backend.workflows import services as workflows
from backend.workflows.diff import diff_graphs, is_empty
from backend.workflows.schemas import WorkflowCreateIn
from flows.pins import without_pins
from flows.pointer import pointer
from templates.format import FORMAT_VERSION, TemplateError, TemplateFile, instantiate, parse_template, substitute, validate_params
from templates.gallery import builtin_templates
from templates.merge import merge_graphs
from templates.triggers import resolve_triggers, trigger_changes
from templates.migrate import load_template, migrate_template

if TYPE_CHECKING:
    from backend.collab.rooms import RoomManager


def api_error(exc: TemplateError) -> ApiError:
    kw: dict[str, Any] = {"pointer": exc.pointer, "code": exc.code}
    if exc.errors:
        kw["errors"] = exc.errors
    if exc.status == 413:
        return PayloadTooLarge(exc.message, **kw)
    if exc.status == 400:
        return BadRequest(exc.message, **kw)
    return Unprocessable(exc.message, **kw)


class Found:
    """A template the caller can see: a built-in file or a row."""

    def __init__(self, tpl: TemplateFile, row: Template | None = None) -> None:
        self.tpl, self.row = tpl, row

    @property
    def id(self) -> str:
        return self.row.id if self.row is not None else self.tpl.id

    def editable_by(self, p: Principal) -> bool:
        return self.row is not None and self.row.owner_id == p.user_id and p.can_edit

    def summary(self, p: Principal) -> dict[str, Any]:
        t, r = self.tpl, self.row
        return {"id": self.id, "builtin": r is None, "title": t.title, "description": t.description,
                "category": t.category, "tags": list(t.tags), "icon": t.icon, "version": t.version,
                "visibility": r.visibility if r is not None else "public", "owner_id": r.owner_id if r else None,
                "editable": self.editable_by(p), "node_count": len(t.graph.get("nodes") or []),
                "ai_enhancements": len(t.ai_enhancements), "updated_at": r.updated_at if r is not None else None}

    def detail(self, p: Principal) -> dict[str, Any]:
        t = self.tpl
        return {**self.summary(p), "parameters": t.parameters,
                "ai_enhancement_points": [e.model_dump() for e in t.ai_enhancements],
                "sample_input": t.sample_input, "graph": t.graph, "document": t.model_dump(mode="json")}


def _visible(p: Principal) -> Any:
    return sa.or_(Template.visibility == "public",
                  sa.and_(Template.tenant_id == p.tenant_id,
                          sa.or_(Template.visibility == "workspace", Template.owner_id == p.user_id)))


def _file(row: Template) -> TemplateFile:
    # Stored documents passed the gate when they were written; validating the model again
    # (not the whole gate: the catalogue may have lost a plugin since) keeps reads cheap.
    # Rows written in an older format are migrated on read (pure, no write).
    return TemplateFile.model_validate(migrate_template(row.document))


async def list_templates(s: AsyncSession, p: Principal, registry: Any, *, q: str = "", category: str = "",
                         tag: str = "") -> dict[str, Any]:
    found = [Found(t) for t in builtin_templates(registry).values()]
    rows = await s.scalars(sa.select(Template).where(_visible(p)).order_by(Template.updated_at.desc()).limit(500))
    found += [Found(_file(r), r) for r in rows]
    categories = sorted({f.tpl.category for f in found})
    tags = sorted({t for f in found for t in f.tpl.tags})
    words = [w for w in q.lower().split() if w]

    def hit(f: Found) -> bool:
        text = " ".join([f.tpl.title, f.tpl.description, f.tpl.category, *f.tpl.tags]).lower()
        return (all(w in text for w in words) and (not category or f.tpl.category == category)
                and (not tag or tag in f.tpl.tags))

    return {"items": [f.summary(p) for f in found if hit(f)], "categories": categories, "tags": tags}


async def get_template(s: AsyncSession, p: Principal, registry: Any, template_id: str) -> Found:
    if looks_like_id(template_id):
        row = await s.scalar(sa.select(Template).where(Template.id == template_id, _visible(p)))
        if row is not None:
            return Found(_file(row), row)
    else:
        tpl = builtin_templates(registry).get(template_id)
        if tpl is not None:
            return Found(tpl)
    raise NotFound(f"no template {template_id}")


async def _owned(s: AsyncSession, p: Principal, registry: Any, template_id: str) -> Found:
    found = await get_template(s, p, registry, template_id)
    if found.row is None:
        raise Forbidden("built-in templates are read-only; save a copy as your own template")
    if not found.editable_by(p):
        raise Forbidden("only the template's owner edits or deletes it")
    return found


async def import_template(s: AsyncSession, p: Principal, registry: Any, template_id: str, body: ImportIn,
                          base_url: str) -> tuple[Any, list[dict[str, Any]]]:
    """A new workflow draft from the template and its parameters, and the triggers the
    template declares; the link remembers the template, its version, the parameters and the
    graph (the base of later merges). Everything is checked before anything is stored."""
    found = await get_template(s, p, registry, template_id)
    try:
        graph, values = instantiate(found.tpl, body.params, body.name)
        triggers = resolve_triggers(found.tpl, values)
    except TemplateError as exc:
        raise api_error(exc) from None
    wf = await workflows.create_workflow(s, p, WorkflowCreateIn(name=graph["name"], description=found.tpl.description,
                                                                graph=graph))
    s.add(TemplateLink(workflow_id=wf.id, tenant_id=p.tenant_id, template_id=found.id,
                       template_version=found.tpl.version, params=values, base_graph=graph, base_triggers=triggers))
    await s.flush()
    return wf, [await _create_trigger(s, p, wf.id, t, base_url) for t in triggers]


async def _create_trigger(s: AsyncSession, p: Principal, workflow_id: str, t: dict[str, Any],
                          base_url: str) -> dict[str, Any]:
    """Through backend.triggers.services, like the trigger endpoints. A schedule starts
    disabled (and runs the published version): importing runs nothing, now or later, until
    the user publishes the workflow and turns the schedule on, as n8n imports workflows inactive."""
    if t["type"] == "schedule":
        sch = await trigger_services.create_schedule(s, p, workflow_id, ScheduleCreateIn(
            cron=t["cron"], timezone=t["timezone"], input=t["input"], enabled=False, source="published"))
        return {"type": "schedule", **trigger_services.schedule_out(sch).model_dump(mode="json"),
                "description": t["description"]}
    hook, secret = await trigger_services.create_webhook(s, p, workflow_id, WebhookCreateIn(
        allow_token=t["allow_token"], description=t["description"], source="published"))
    return {"type": "webhook", **trigger_services.webhook_out(hook, base_url).model_dump(mode="json"), "secret": secret}


def _store(s: AsyncSession, p: Principal, tpl: TemplateFile, visibility: str) -> Template:
    row = Template(tenant_id=p.tenant_id, owner_id=p.user_id, slug=tpl.id, title=tpl.title,
                   description=tpl.description, category=tpl.category, tags=list(tpl.tags), icon=tpl.icon,
                   version=tpl.version, visibility=visibility, document=tpl.model_dump(mode="json"))
    s.add(row)
    return row


async def upload(s: AsyncSession, p: Principal, registry: Any, raw: Any, visibility: str) -> Found:
    """A template file (any known older format is migrated), or a bare graph document,
    through the strict gate; stored as the caller's own template."""
    try:
        if isinstance(raw, dict) and "format_version" not in raw and "nodes" in raw:
            raw = {"format_version": FORMAT_VERSION, "id": _slug(str(raw.get("name") or "imported")), "version": 1,
                   "title": str(raw.get("name") or "Imported workflow")[:200], "graph": raw}
        tpl = load_template(raw, registry)
    except TemplateError as exc:
        raise api_error(exc) from None
    row = _store(s, p, tpl, visibility)
    await s.flush()
    return Found(tpl, row)


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:64].strip("-")
    return slug or "template"


async def _draft_of(s: AsyncSession, p: Principal, workflow_id: str, collab: RoomManager) -> dict[str, Any]:
    wf = await workflows.get_workflow(s, p, workflow_id)
    graph = without_pins(await workflows.draft_graph(s, wf, collab))   # pins are test data, not the template's
    return {k: v for k, v in graph.items() if k != "notes" or v}


async def save_as_template(s: AsyncSession, p: Principal, registry: Any, body: SaveAsTemplateIn,
                           collab: RoomManager) -> Found:
    graph = await _draft_of(s, p, body.workflow_id, collab)
    doc = {"format_version": FORMAT_VERSION, "id": _slug(body.title), "version": 1, "title": body.title,
           "description": body.description, "category": body.category, "tags": body.tags, "icon": body.icon,
           "graph": graph}
    if body.parameters is not None:
        doc["parameters"] = body.parameters
    try:
        tpl = parse_template(doc, registry)
    except TemplateError as exc:
        raise api_error(exc) from None
    row = _store(s, p, tpl, body.visibility)
    await s.flush()
    return Found(tpl, row)


async def update_template(s: AsyncSession, p: Principal, registry: Any, template_id: str, body: TemplateUpdateIn,
                          collab: RoomManager) -> Found:
    found = await _owned(s, p, registry, template_id)
    row = found.row
    assert row is not None
    doc = migrate_template(row.document)
    for key in ("title", "description", "category", "tags", "icon", "parameters"):
        value = getattr(body, key)
        if value is not None:
            doc[key] = value
    new_version = body.workflow_id is not None or body.parameters is not None
    if body.workflow_id is not None:
        doc["graph"] = await _draft_of(s, p, body.workflow_id, collab)
    if new_version:
        doc["version"] = row.version + 1
    try:
        tpl = parse_template(doc, registry)
    except TemplateError as exc:
        raise api_error(exc) from None
    row.document, row.version = tpl.model_dump(mode="json"), tpl.version
    row.title, row.description, row.category, row.tags, row.icon = (tpl.title, tpl.description, tpl.category,
                                                                    list(tpl.tags), tpl.icon)
    if body.visibility is not None:
        row.visibility = body.visibility
    row.updated_at = utcnow()
    await s.flush()
    return Found(tpl, row)


async def delete_template(s: AsyncSession, p: Principal, registry: Any, template_id: str) -> None:
    found = await _owned(s, p, registry, template_id)
    await s.delete(found.row)


# --- updates ---------------------------------------------------------------------------

async def _link(s: AsyncSession, p: Principal, workflow_id: str) -> TemplateLink:
    await workflows.get_workflow(s, p, workflow_id)
    link = await s.scalar(sa.select(TemplateLink).where(TemplateLink.workflow_id == workflow_id,
                                                        TemplateLink.tenant_id == p.tenant_id))
    if link is None:
        raise NotFound(f"workflow {workflow_id} was not made from a template")
    return link


def _theirs(found: Found, link: TemplateLink) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The new version's graph and triggers with the workflow's parameters (new parameters take their
    defaults)."""
    try:
        values = validate_params(found.tpl.parameters, dict(link.params or {}))
        graph = substitute(found.tpl.graph, values)
        triggers = resolve_triggers(found.tpl, values)
    except TemplateError as exc:
        raise Unprocessable(f"the new template version needs other parameters: {exc.message}",
                            pointer=exc.pointer, code="params") from None
    graph["name"] = link.base_graph.get("name", graph.get("name"))   # the workflow keeps its own name
    return graph, triggers


async def _base_triggers(s: AsyncSession, p: Principal, link: TemplateLink) -> list[dict[str, Any]]:
    """What the link's import (or last update) created. A link made before that was kept: the workflow's
    triggers as they are now stand in for it, so an update adds only what the workflow lacks."""
    if link.base_triggers is not None:
        return list(link.base_triggers)
    return ([{"type": "schedule", "cron": x.cron, "timezone": x.timezone, "input": x.input or {}}
             for x in await trigger_services.list_schedules(s, p, link.workflow_id)]
            + [{"type": "webhook", "allow_token": h.allow_token, "description": h.description}
               for h in await trigger_services.list_webhooks(s, p, link.workflow_id)])


async def template_update(s: AsyncSession, p: Principal, registry: Any, workflow_id: str,
                          collab: RoomManager) -> dict[str, Any]:
    """The update a workflow's template offers. A workflow not made from a template has nothing to
    update: 200 with `template_id` null and `update_available` false (the canvas asks on every open)."""
    await workflows.get_workflow(s, p, workflow_id)
    link = await s.scalar(sa.select(TemplateLink).where(TemplateLink.workflow_id == workflow_id,
                                                        TemplateLink.tenant_id == p.tenant_id))
    out: dict[str, Any] = {"workflow_id": workflow_id, "template_id": link and link.template_id,
                           "current_version": link and link.template_version, "latest_version": None,
                           "update_available": False, "title": None, "diff": None, "conflicts": []}
    if link is None:
        return {**out, "available": False}
    try:
        found = await get_template(s, p, registry, link.template_id)
    except NotFound:
        return {**out, "available": False}    # deleted, or no longer shared with the caller
    out.update(available=True, latest_version=found.tpl.version, title=found.tpl.title)
    if found.tpl.version <= link.template_version:
        return out
    theirs, their_triggers = _theirs(found, link)
    draft = await _draft_of(s, p, workflow_id, collab)
    _, conflicts = merge_graphs(link.base_graph, draft, theirs)
    added, dropped = trigger_changes(await _base_triggers(s, p, link), their_triggers)
    return {**out, "update_available": True, "diff": diff_graphs(link.base_graph, theirs), "conflicts": conflicts,
            "triggers": {"added": added, "dropped": dropped}}


async def merge_update(s: AsyncSession, p: Principal, registry: Any, workflow_id: str,
                       collab: RoomManager, choices: dict[str, str] | None = None,
                       base_url: str = "") -> dict[str, Any]:
    """Three-way merge of the newer template version into the draft, through the shared
    document (connected editors see it as an ordinary edit). A conflict keeps the draft's
    value unless `choices` maps its pointer to "theirs"; the choices are applied in the same
    edit. A choice naming no current conflict (the draft or the template changed since the
    user saw the list) is a 409 and nothing is merged. Triggers the new version declares that the base
    did not are created as an import creates them (schedules disabled); triggers it no longer declares
    are kept and listed (`triggers_dropped`): the user may rely on them."""
    link = await _link(s, p, workflow_id)
    found = await get_template(s, p, registry, link.template_id)
    if found.tpl.version <= link.template_version:
        raise BadRequest(f"the workflow already has version {link.template_version} of the template",
                         code="up_to_date")
    theirs, their_triggers = _theirs(found, link)
    wf = await workflows.get_workflow(s, p, workflow_id)
    draft = await _draft_of(s, p, workflow_id, collab)
    merged, conflicts = merge_graphs(link.base_graph, draft, theirs, choices)
    choosable = {c["pointer"] for c in conflicts if c["choosable"]}
    stale = sorted(set(choices or {}) - choosable)
    if stale:
        raise Conflict(f"no conflict at {stale[0]} any more: the draft or the template changed since the update "
                       "was shown; look at the update again and choose anew", field="choices",
                       pointer=pointer("choices", stale[0]), code="stale_choice",
                       stale=stale)
    changed = not is_empty(diff_graphs(draft, merged))
    added, dropped = trigger_changes(await _base_triggers(s, p, link), their_triggers)
    # The shared document first, before this session writes (see workflows.services.update_workflow).
    wf.graph = await collab.edit(wf.id, p.tenant_id, merged)
    wf.updated_at = utcnow()
    previous = link.template_version
    link.template_version, link.base_graph, link.updated_at = found.tpl.version, theirs, utcnow()
    link.base_triggers = their_triggers
    # After the document (this session may not write before it, above); resolve_triggers has already
    # checked every cron and zone with the scheduler's own rules, so creating them does not fail on input.
    created = [await _create_trigger(s, p, workflow_id, t, base_url) for t in added]
    await s.flush()
    return {"workflow_id": workflow_id, "from_version": previous, "to_version": found.tpl.version,
            "changed": changed, "conflicts": conflicts, "graph": wf.graph,
            "triggers_created": created, "triggers_dropped": dropped}
