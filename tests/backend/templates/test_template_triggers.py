"""Importing a template that declares triggers creates them through backend.triggers, on
backup-and-cleanup's schedule takes its cron and time zone from the
parameters and starts disabled; a bad cron or zone is a 422 naming the parameter and stores
nothing; a declared webhook comes with its secret, once."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from backend.db.models import Workflow
from backend.templates.models import TemplateLink
from backend.triggers.models import Schedule, Webhook
from tests.backend.conftest import assert_problem


async def _stored(db, tenant_id):
    async with db.sessionmaker() as s:
        counts = []
        for model in (Workflow, TemplateLink, Schedule, Webhook):
            counts.append(await s.scalar(sa.select(sa.func.count()).select_from(model)
                                         .where(model.tenant_id == tenant_id)))
    return tuple(counts)


class TestScheduleFromParameters:
    async def test_import_creates_the_schedule_with_the_parameters_cron_and_zone_disabled(self, client, tenant_a):
        """The schedule parameter becomes a real schedule of the new workflow, off until the user turns it on."""
        h = tenant_a.editor.headers
        r = await client.post("/api/templates/backup-and-cleanup/import",
                              json={"params": {"schedule": "30 2 * * 1-5", "timezone": "Europe/Paris"}}, headers=h)
        assert r.status_code == 201, r.text
        wf = r.json()
        assert [(t["type"], t["cron"], t["timezone"], t["enabled"], t["next_runs"]) for t in wf["triggers"]] == [
            ("schedule", "30 2 * * 1-5", "Europe/Paris", False, [])]
        listed = (await client.get(f"/api/workflows/{wf['id']}/schedules", headers=h)).json()
        assert [(s["id"], s["cron"], s["timezone"], s["enabled"], s["source"]) for s in listed] == [
            (wf["triggers"][0]["id"], "30 2 * * 1-5", "Europe/Paris", False, "published")]
        # turned on, it fires at 02:30 Paris time on weekdays
        on = await client.put(f"/api/workflows/{wf['id']}/schedules/{listed[0]['id']}", json={"enabled": True},
                              headers=h)
        assert on.status_code == 200, on.text
        times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in on.json()["next_runs"]]
        assert len(times) == 5
        from zoneinfo import ZoneInfo
        local = [t.astimezone(ZoneInfo("Europe/Paris")) for t in times]
        assert all((x.hour, x.minute) == (2, 30) and x.weekday() < 5 for x in local), local

    async def test_defaults_give_the_nightly_utc_schedule(self, client, tenant_a):
        r = await client.post("/api/templates/backup-and-cleanup/import", json={}, headers=tenant_a.editor.headers)
        assert r.status_code == 201, r.text
        assert [(t["cron"], t["timezone"], t["enabled"]) for t in r.json()["triggers"]] == [("0 3 * * *", "UTC", False)]

    @pytest.mark.parametrize("params, field, words", [
        ({"schedule": "99 3 * * *"}, "schedule", "99"),
        ({"schedule": "0 3 * *"}, "schedule", "5 fields"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Mars/Olympus"),
    ])
    async def test_a_bad_cron_or_zone_is_a_422_naming_the_parameter_and_stores_nothing(self, client, tenant_a, db,
                                                                                        params, field, words):
        r = await client.post("/api/templates/backup-and-cleanup/import", json={"params": params},
                              headers=tenant_a.editor.headers)
        doc = assert_problem(r, 422)
        assert doc["pointer"] == f"/params/{field}" and doc["errors"][0]["field"] == field
        assert field in doc["detail"] and words in doc["detail"], doc
        assert await _stored(db, tenant_a.id) == (0, 0, 0, 0)


def _with_webhook():
    return {"format_version": 3, "id": "hooked", "version": 1, "title": "Hooked",
            "triggers": [{"type": "webhook", "description": "from the CRM"}],
            "graph": {"schema_version": 1, "nodes": [{"id": "start", "type": "trigger.manual"}], "edges": []}}


async def test_a_declared_webhook_is_created_with_its_secret_shown_once(client, tenant_a, db):
    h = tenant_a.editor.headers
    tid = (await client.post("/api/templates/upload", json=_with_webhook(), headers=h)).json()["id"]
    r = await client.post(f"/api/templates/{tid}/import", json={}, headers=h)
    assert r.status_code == 201, r.text
    hook = r.json()["triggers"][0]
    assert hook["type"] == "webhook" and hook["description"] == "from the CRM" and hook["allow_token"] is False
    assert hook["secret"].startswith(hook["secret_hint"]) and hook["url"].endswith(f"/hooks/{hook['id']}")
    listed = (await client.get(f"/api/workflows/{r.json()['id']}/webhooks", headers=h)).json()
    assert [w["id"] for w in listed] == [hook["id"]] and "secret" not in listed[0]
    assert await _stored(db, tenant_a.id) == (1, 1, 0, 1)


async def test_an_upload_with_a_bad_trigger_is_refused_naming_it(client, tenant_a, db):
    bad = {**_with_webhook(), "triggers": [{"type": "schedule", "cron": "0 3 * * *", "enabled": True}]}
    doc = assert_problem(await client.post("/api/templates/upload", json=bad, headers=tenant_a.editor.headers), 422)
    assert doc["pointer"] == "/triggers/0/enabled", doc


async def test_templates_saved_in_format_2_are_read_and_updated_after_the_upgrade(client, tenant_a, db):
    """Rows written before format 3 keep working: shown, imported (no triggers) and edited."""
    from backend.templates.models import Template

    doc = {**_with_webhook(), "format_version": 2, "id": "old"}
    del doc["triggers"]
    async with db.sessionmaker() as s:
        row = Template(tenant_id=tenant_a.id, owner_id=tenant_a.editor.user_id, slug="old", title="Hooked",
                       version=1, visibility="private", document=doc)
        s.add(row)
        await s.commit()
    h = tenant_a.editor.headers
    got = (await client.get(f"/api/templates/{row.id}", headers=h)).json()
    assert got["document"]["format_version"] == 3 and got["document"]["triggers"] == []
    r = await client.post(f"/api/templates/{row.id}/import", json={}, headers=h)
    assert r.status_code == 201 and r.json()["triggers"] == [], r.text
    r = await client.put(f"/api/templates/{row.id}", json={"title": "Renamed"}, headers=h)
    assert r.status_code == 200 and r.json()["document"]["format_version"] == 3, r.text


class TestUpdateTriggers:
    """A template update that declares new triggers creates them on merge (schedules disabled), as an
    import would; triggers the new version no longer declares are kept and listed."""

    @staticmethod
    def _doc(version: int, triggers: list) -> dict:
        return {"format_version": 3, "id": "evolving", "version": version, "title": "Evolving",
                "parameters": {"type": "object", "properties": {
                    "cron": {"type": "string", "default": "15 4 * * *"}}},
                "triggers": triggers,
                "graph": {"schema_version": 1, "nodes": [{"id": "start", "type": "trigger.manual"}], "edges": []}}

    async def _row(self, db, tenant, version: int, triggers: list, row_id: str | None = None) -> str:
        from backend.templates.models import Template

        async with db.sessionmaker() as s:
            if row_id is None:
                row = Template(tenant_id=tenant.id, owner_id=tenant.editor.user_id, slug="evolving",
                               title="Evolving", version=version, visibility="private",
                               document=self._doc(version, triggers))
                s.add(row)
            else:
                row = await s.get(Template, row_id)
                row.version, row.document = version, self._doc(version, triggers)
            await s.commit()
            return row.id

    async def test_new_triggers_are_listed_then_created_and_dropped_ones_are_kept(self, client, tenant_a, db):
        h = tenant_a.editor.headers
        schedule = {"type": "schedule", "cron": {"$param": "cron"}, "timezone": "Europe/Paris", "input": {"k": 1},
                    "description": "nightly"}
        hook = {"type": "webhook", "description": "from the CRM"}
        tid = await self._row(db, tenant_a, 1, [hook])
        r = await client.post(f"/api/templates/{tid}/import", json={"params": {"cron": "0 5 * * *"}}, headers=h)
        assert r.status_code == 201, r.text
        wf = r.json()["id"]
        assert [t["type"] for t in r.json()["triggers"]] == ["webhook"]

        # version 2 adds a schedule (its cron from the workflow's parameters) and renames the webhook's description
        await self._row(db, tenant_a, 2, [{**hook, "description": "from the CRM, v2"}, schedule], tid)
        up = (await client.get(f"/api/workflows/{wf}/template-update", headers=h)).json()
        assert up["update_available"] and up["triggers"]["dropped"] == []
        assert [(t["type"], t["cron"], t["timezone"], t["input"]) for t in up["triggers"]["added"]] == [
            ("schedule", "0 5 * * *", "Europe/Paris", {"k": 1})]
        assert await _stored(db, tenant_a.id) == (1, 1, 0, 1)  # looking changes nothing

        merged = await client.post(f"/api/workflows/{wf}/template-update/merge", headers=h)
        assert merged.status_code == 200, merged.text
        created = merged.json()["triggers_created"]
        assert [(t["type"], t["cron"], t["enabled"]) for t in created] == [("schedule", "0 5 * * *", False)]
        schedules = (await client.get(f"/api/workflows/{wf}/schedules", headers=h)).json()
        assert [(x["id"], x["cron"], x["timezone"], x["enabled"]) for x in schedules] == [
            (created[0]["id"], "0 5 * * *", "Europe/Paris", False)]
        assert await _stored(db, tenant_a.id) == (1, 1, 1, 1)

        # version 3 drops the webhook: the merge keeps it and says so; nothing is created twice
        await self._row(db, tenant_a, 3, [schedule], tid)
        up = (await client.get(f"/api/workflows/{wf}/template-update", headers=h)).json()
        assert up["triggers"]["added"] == [] and [t["type"] for t in up["triggers"]["dropped"]] == ["webhook"]
        merged = (await client.post(f"/api/workflows/{wf}/template-update/merge", headers=h)).json()
        assert merged["triggers_created"] == [] and [t["type"] for t in merged["triggers_dropped"]] == ["webhook"]
        assert await _stored(db, tenant_a.id) == (1, 1, 1, 1)

    async def test_a_link_from_before_uses_the_workflows_triggers_as_the_base(self, client, tenant_a, db):
        """A workflow imported before links kept their triggers: an update adds only what it lacks."""
        h = tenant_a.editor.headers
        hook = {"type": "webhook", "description": "from the CRM"}
        tid = await self._row(db, tenant_a, 1, [hook])
        wf = (await client.post(f"/api/templates/{tid}/import", json={}, headers=h)).json()["id"]
        async with db.sessionmaker() as s:
            await s.execute(sa.update(TemplateLink).where(TemplateLink.workflow_id == wf).values(base_triggers=None))
            await s.commit()
        await self._row(db, tenant_a, 2, [hook, {"type": "schedule", "cron": "0 6 * * *", "timezone": "UTC"}], tid)
        merged = (await client.post(f"/api/workflows/{wf}/template-update/merge", headers=h)).json()
        assert [(t["type"], t["cron"]) for t in merged["triggers_created"]] == [("schedule", "0 6 * * *")]
        assert await _stored(db, tenant_a.id) == (1, 1, 1, 1)
