"""Every gallery template, imported with its default parameters, runs end to end on the
embedded default (offline AI provider, built-in outbox) with the app's node services, on
mail lands in the outbox, certificates and ledger records are written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.certify.models import Certificate
from backend.email.models import EmailOutboxMessage
from backend.runs.node_services import node_services
from flows.compile import compile_graph
from flows.engine import Emitter, Engine
from nodes.registry import default_registry
from templates.format import instantiate
from templates.gallery import builtin_templates

REGISTRY = default_registry()
GALLERY = builtin_templates(REGISTRY)

# What each template must produce with its defaults and sample input:
# (run output checks, outbox recipients, certificates written)
EXPECT = {
    "user-onboarding": (lambda o: o["record"]["welcome_sent"] == 1 and o["record"]["ai_provider"] == "offline",
                        ["Ada Lovelace <ada@example.com>"], 0),
    "document-processing": (lambda o: o["send"]["sent"] == 1, ["review@maily.example"], 1),
    "email-campaign": (lambda o: {k: v for k, v in o["report"].items() if k != "send_at"}
                       == {"audience": 4, "segment": 2, "sent": 2, "suppressed": 0, "best_hour": 10},
                       ["Ann <ann@example.com>", "Bob <bob@example.com>"], 0),
    "data-synchronization": (lambda o: o["report"]["created"] == ["ann@example.com", "cy@example.com"]
                             and o["report"]["updated"] == ["bob@example.com"]
                             and o["report"]["deleted"] == ["old@example.com"]
                             and o["report"]["summary"] == "2 to create, 1 to update, 1 to delete.", [], 1),
    "notification": (lambda o: o["notified"]["severity"] == "critical" and o["notified"]["sent"] == 1,
                     ["oncall@maily.example"], 0),
    "backup-and-cleanup": (lambda o: o["report"]["deleted"] == ["db-2026-09-01.tar.gz", "db-2026-10-01.tar.gz"]
                           and o["report"]["freed_mb"] == 245 and o["report"]["mailed"] == 1,
                           ["admin@maily.example"], 1),
}


class _Events:
    def __init__(self) -> None:
        self.seen: list = []

    def emit(self, event) -> None:
        self.seen.append(event)


async def _wait_then_resume(services, plan, run_id, payload, outcome, events, tenant, db):
    """The campaign waits, durably, until the send time it computed, with nothing sent yet; the
    next pass (as the app's resumer makes it once send_at has come) sends."""
    assert outcome.status == "waiting", outcome.error
    send_at = next(e.data["output"]["output"]["result"]["send_at"] for e in events.seen
                   if e.kind == "node.succeeded" and e.node_id == "timing")
    assert [(w["node_id"], w["reason"]) for w in outcome.waiting] == [("wait", "delay")]
    assert outcome.waiting[0]["resume_at"] == send_at.replace("Z", "+00:00")
    async with db.sessionmaker() as s:
        assert not (await s.scalars(sa.select(EmailOutboxMessage).where(EmailOutboxMessage.run_id == run_id))).all()
    reuse = {e.node_id: e.data["output"] for e in events.seen if e.kind == "node.succeeded" and e.iteration is None}
    reuse["wait"] = next(e.data["output"] for e in events.seen if e.kind == "node.waiting")
    return await Engine(services).run(plan, run_id, payload, Emitter(run_id, []), tenant_id=tenant.id, reuse=reuse)


def test_the_gallery_has_the_six_standard_templates():
    assert set(GALLERY) == set(EXPECT)
    for tpl in GALLERY.values():
        assert tpl.ai_enhancements, f"{tpl.id} marks no AI enhancement point"
        assert {"sender"} & set(tpl.parameters["properties"]) or tpl.id == "data-synchronization"


@pytest.mark.parametrize("template_id", sorted(EXPECT))
async def test_gallery_template_runs_end_to_end_on_the_embedded_default(template_id, settings, tenant_a, db):
    tpl = GALLERY[template_id]
    graph, _ = instantiate(tpl, {})
    plan = compile_graph(graph, REGISTRY)        # validates: raises on any error
    services = node_services(settings)
    run_id = f"tpl-{template_id}-{tenant_a.id[:8]}"
    events = _Events()
    try:
        outcome = await Engine(services).run(plan, run_id, tpl.sample_input, Emitter(run_id, [events]),
                                             tenant_id=tenant_a.id)
        if template_id == "email-campaign":
            outcome = await _wait_then_resume(services, plan, run_id, tpl.sample_input, outcome, events, tenant_a, db)
    finally:
        await services.nodes.mailer.store.db.db.dispose()
        await services.http.aclose()
    assert outcome.status == "succeeded", outcome.error
    check, recipients, certificates = EXPECT[template_id]
    assert check(outcome.output), outcome.output
    async with db.sessionmaker() as s:
        mails = (await s.scalars(sa.select(EmailOutboxMessage).where(EmailOutboxMessage.run_id == run_id))).all()
        certs = (await s.scalars(sa.select(Certificate).where(Certificate.run_id == run_id))).all()
    assert sorted(m.recipient for m in mails) == recipients
    assert all(m.tenant_id == tenant_a.id for m in mails)
    assert len(certs) == certificates
