"""GET /api/workflows/{id}/schedules/preview: the next five fire times of a cron before it is
saved, a bad cron or time zone refused as 422 naming the field, tenant and role checks."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from tests.backend.triggers.conftest import assert_problem, published_workflow, simple_graph


async def test_preview_lists_the_next_five_fire_times_in_the_time_zone(client, tenant_a):
    """Weekdays at 09:00 in Paris: five increasing future times, each 09:00 Paris time on Monday to Friday."""
    wf = await published_workflow(client, tenant_a.editor.headers, simple_graph())
    r = await client.get(f"/api/workflows/{wf}/schedules/preview",
                         params={"cron": "0  9 * * 1-5", "timezone": "Europe/Paris"}, headers=tenant_a.viewer.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cron"] == "0 9 * * 1-5" and body["timezone"] == "Europe/Paris"
    times = [datetime.fromisoformat(t) for t in body["next_runs"]]
    assert len(times) == 5 and times == sorted(times) and times[0] > datetime.now(timezone.utc)
    local = [t.astimezone(ZoneInfo("Europe/Paris")) for t in times]
    assert all(t.hour == 9 and t.minute == 0 and t.isoweekday() <= 5 for t in local), local


async def test_preview_refuses_a_bad_cron_or_time_zone_naming_the_field(client, tenant_a):
    """A malformed cron, a missing one and an unknown time zone are 422 problems naming cron or timezone."""
    wf = await published_workflow(client, tenant_a.editor.headers, simple_graph())
    url = f"/api/workflows/{wf}/schedules/preview"
    for params, field in [({"cron": "61 * * * *"}, "cron"), ({}, "cron"), ({"cron": "* * *"}, "cron"),
                          ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone")]:
        doc = assert_problem(await client.get(url, params=params, headers=tenant_a.editor.headers), 422)
        assert doc["field"] == field, (params, doc)


async def test_preview_of_another_workspaces_workflow_is_404(client, tenant_a, tenant_b):
    """Another workspace's workflow id answers 404, not its schedule preview."""
    wf = await published_workflow(client, tenant_a.editor.headers, simple_graph())
    assert_problem(await client.get(f"/api/workflows/{wf}/schedules/preview", params={"cron": "@daily"},
                                    headers=tenant_b.owner.headers), 404)
