"""Approvals by link through the app: mailed, decided on the page without a login, single use, timeout."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEvent
from tests.backend.approvals.support import approval_graph, mailed_links
from tests.backend.conftest import assert_problem
from tests.backend.runs.test_run_control import make_app, move_past_resume_at, nodes_of, start, wait_status
from tests.backend.runs.test_prefect_runs import flow_run_of


@pytest.fixture
def settings(settings):
    # the in-process engine; TestOnPrefect below sends every run through Prefect
    return settings.model_copy(update={"resume_poll_s": 0.2, "prefect": "never"})


async def test_an_approver_decides_through_the_mailed_link_and_the_link_works_once(client, db, tenant_a):
    """The mailed link opens the form without a login; approving resumes the run; the link is then refused."""
    h = tenant_a.editor.headers
    run_id = await start(client, h, approval_graph(["Boss@Example.com", "other@example.com"]), {"list": "spring"})
    run = await wait_status(client, h, run_id, "waiting")
    assert run["waiting_on"][0]["details"]["notified"] == ["boss@example.com", "other@example.com"]
    links = await mailed_links(client, h)
    assert set(links) == {"boss@example.com", "other@example.com"}
    link = links["boss@example.com"]
    page = await client.get(link)
    assert page.status_code == 200 and "Ship the campaign?" in page.text and "spring" in page.text
    assert 'name="note"' in page.text and "boss@example.com" in page.text
    bad = await client.post(link, data={"decision": "approved", "note": "x"})      # minLength 2
    assert bad.status_code == 422 and "note" in bad.text and 'role="alert"' in bad.text
    done = await client.post(link, data={"decision": "approved", "note": "go", "score": "7"})
    assert done.status_code == 200 and "recorded" in done.text
    run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    decision = nodes_of(run)["ok"]["output"]["approved"]
    assert decision["data"] == {"note": "go", "score": 7}
    assert decision["decided_by"] == {"email": "boss@example.com", "via": "link"} and decision["decided_at"]
    assert nodes_of(run)["yes"]["status"] == "succeeded" and nodes_of(run)["no"]["status"] == "skipped"
    again = await client.get(link)                                              # reused: refused with what happened
    assert again.status_code == 409 and "approved by boss@example.com" in again.text
    assert (await client.post(link, data={"decision": "rejected", "note": "no"})).status_code == 409
    other = await client.get(links["other@example.com"])                        # single decision for everyone
    assert other.status_code == 409
    async with db.sessionmaker() as s:
        row = await s.scalar(select(AuditEvent).where(AuditEvent.target_id == run_id, AuditEvent.action == "run.approve"))
    assert row.details["via"] == "link" and row.details["email"] == "boss@example.com" and row.actor_id is None


async def test_a_tampered_or_foreign_link_is_refused(client, tenant_a):
    """Changing any character of the token, or a token of another key, is a 404 page; JSON gets problem+json."""
    h = tenant_a.editor.headers
    run_id = await start(client, h, approval_graph(["a@example.com"]))
    await wait_status(client, h, run_id, "waiting")
    link = (await mailed_links(client, h))["a@example.com"]
    body, _, sig = link.rpartition(".")
    forged_sig = f"{body}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    forged_body = link.replace("/api/approvals/", "/api/approvals/x", 1)
    for bad in (forged_sig, forged_body, "/api/approvals/nonsense", "/api/approvals/é.é"):
        page = await client.get(bad)
        assert page.status_code == 404 and "not valid" in page.text, bad
    assert_problem(await client.post(forged_sig, json={"decision": "approved", "data": {"note": "ok"}}), 404)
    assert (await client.get(f"/api/runs/{run_id}", headers=h)).json()["status"] == "waiting"


async def test_a_json_client_decides_with_the_link_and_gets_problems(client, tenant_a):
    """POSTing JSON to the link gives 422 naming the field, then the decision, then 409."""
    h = tenant_a.editor.headers
    run_id = await start(client, h, approval_graph(["a@example.com"]))
    await wait_status(client, h, run_id, "waiting")
    link = (await mailed_links(client, h))["a@example.com"]
    bad = assert_problem(await client.post(link, json={"decision": "rejected", "data": {"score": 1}}), 422)
    assert bad["problems"][0]["field"] == "note"
    r = await client.post(link, json={"decision": "rejected", "data": {"note": "not now"}})
    assert r.status_code == 200 and r.json()["decided_by"] == "a@example.com" and r.json()["decision"] == "rejected"
    run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert nodes_of(run)["no"]["status"] == "succeeded"
    assert_problem(await client.post(link, json={"decision": "approved", "data": {"note": "ok"}}), 409)


async def test_nobody_deciding_in_time_gives_the_default_decision_and_the_link_then_says_so(client, db, tenant_a):
    """Past decide_within_s the run resumes with default_decision (decided_by timeout); the link is refused."""
    h = tenant_a.editor.headers
    run_id = await start(client, h, approval_graph(["a@example.com"], decide_within_s=3600, default_decision="approved"))
    run = await wait_status(client, h, run_id, "waiting")
    deadline = datetime.fromisoformat(run["resume_at"])
    assert timedelta(minutes=59) < deadline - datetime.now(timezone.utc) <= timedelta(hours=1)
    link = (await mailed_links(client, h))["a@example.com"]
    assert "Decide before" in (await client.get(link)).text
    await move_past_resume_at(db, run_id)                               # the clock moves past the deadline
    run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    decided = nodes_of(run)["ok"]["output"]["approved"]
    assert decided["decided_by"] == {"timeout": True} and decided["data"] == {}
    assert nodes_of(run)["yes"]["status"] == "succeeded"
    refused = await client.get(link)
    assert refused.status_code == 409 and "nobody in time" in refused.text


async def test_a_signed_in_approver_can_post_the_page_form(client, tenant_a):
    """The page's form is not refused as CSRF when the browser also carries a session cookie."""
    h = tenant_a.editor.headers
    run_id = await start(client, h, approval_graph(["a@example.com"]))
    await wait_status(client, h, run_id, "waiting")
    link = (await mailed_links(client, h))["a@example.com"]
    r = await client.post(link, data={"decision": "approved", "note": "fine"},
                          headers={"Cookie": "maily_session=whatever", "Origin": "http://testserver.local"})
    assert r.status_code == 200, r.text


class TestOnPrefect:
    @pytest.fixture
    def app(self, settings):
        return make_app(settings.model_copy(update={"prefect": "always"}))

    async def test_a_link_decision_resumes_a_prefect_run_and_is_refused_after(self, prefect_api, app, client,
                                                                               tenant_a):
        """On the Prefect path the run suspends, the mailed link decides it, a new flow run finishes it."""
        h = tenant_a.editor.headers
        run_id = await start(client, h, approval_graph(["a@example.com"]))
        run = await wait_status(client, h, run_id, "waiting", timeout=120)          # may boot Prefect
        first_flow = await flow_run_of(client, h, run_id)
        link = (await mailed_links(client, h))["a@example.com"]
        assert (await client.post(link, data={"decision": "approved", "note": "go"})).status_code == 200
        run = await wait_status(client, h, run_id, "succeeded", "failed", timeout=60)
        assert run["status"] == "succeeded", run
        assert await flow_run_of(client, h, run_id, other_than=first_flow)
        assert nodes_of(run)["ok"]["output"]["approved"]["decided_by"]["email"] == "a@example.com"
        assert (await client.get(link)).status_code == 409
