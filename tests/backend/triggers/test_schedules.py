"""Schedules: cron and time zone validation naming the field, next fire times (DST included,
and a hypothesis property over random crons), and a due slot fired exactly once even when
several schedulers tick at the same moment."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import update

from flows.cron import next_fire_times
from backend.triggers.models import Schedule
from backend.triggers.runtime import Scheduler
from tests.backend.triggers.conftest import assert_problem, published_workflow, simple_graph, wait_for_runs

UTC = timezone.utc


async def test_cron_and_time_zone_are_validated_naming_the_field(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, simple_graph())
    url = f"/api/workflows/{wf}/schedules"
    for body, field in [({"cron": "61 * * * *"}, "cron"), ({"cron": "* * *"}, "cron"),
                        ({"cron": "0 0 * * * *"}, "cron"), ({"cron": "H * * * *"}, "cron"),
                        ({"cron": ""}, "cron"), ({}, "cron"),
                        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone"),
                        ({"cron": "0 9 * * *", "timezone": "utc"}, "timezone"),
                        ({"cron": "0 9 * * *", "timezone": "+02:00"}, "timezone")]:
        doc = assert_problem(await client.post(url, json=body, headers=h), 422)
        assert doc["field"] == field, (body, doc)
        assert doc["pointer"] == f"/{field}"

    r = await client.post(url, json={"cron": "0 9 * * 1-5", "timezone": "Europe/Paris", "input": {"k": 1}},
                          headers=h)
    assert r.status_code == 201, r.text
    sch = r.json()
    times = [datetime.fromisoformat(t) for t in sch["next_runs"]]
    assert len(times) == 5 and times == sorted(times) and len(set(times)) == 5
    assert sch["next_run_at"] == sch["next_runs"][0]
    for t in times:
        local = t.astimezone(ZoneInfo("Europe/Paris"))
        assert (local.hour, local.minute) == (9, 0) and local.weekday() < 5

    r = await client.put(f"{url}/{sch['id']}", json={"enabled": False}, headers=h)
    assert r.status_code == 200 and r.json()["next_runs"] == [] and r.json()["next_run_at"] is None
    doc = assert_problem(await client.put(f"{url}/{sch['id']}", json={"timezone": "Nowhere/City"}, headers=h), 422)
    assert doc["field"] == "timezone"
    r = await client.put(f"{url}/{sch['id']}", json={"enabled": True, "cron": "@daily"}, headers=h)
    assert r.status_code == 200 and len(r.json()["next_runs"]) == 5
    assert [x["id"] for x in (await client.get(url, headers=tenant_a.viewer.headers)).json()] == [sch["id"]]
    assert (await client.delete(f"{url}/{sch['id']}", headers=h)).status_code == 204
    assert_problem(await client.get(f"{url}/{sch['id']}", headers=h), 404)


async def test_roles_and_tenants(client, tenant_a, tenant_b):
    wf = await published_workflow(client, tenant_a.editor.headers, simple_graph())
    url = f"/api/workflows/{wf}/schedules"
    body = {"cron": "0 9 * * *"}
    assert_problem(await client.post(url, json=body, headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.post(url, json=body, headers=tenant_b.owner.headers), 404)
    r = await client.post(url, json=body, headers=tenant_a.owner.headers)
    sid = r.json()["id"]
    assert_problem(await client.get(url, headers=tenant_b.owner.headers), 404)
    assert_problem(await client.put(f"{url}/{sid}", json={"enabled": False}, headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.delete(f"{url}/{sid}", headers=tenant_b.owner.headers), 404)


def test_next_fire_times_across_dst_changes():
    # Berlin, 09:00 daily: 08:00 UTC in winter time, 07:00 UTC from the last Sunday of March
    times = next_fire_times("0 9 * * *", "Europe/Berlin", datetime(2027, 3, 26, tzinfo=UTC), 4)
    assert [(t.day, t.hour) for t in times] == [(26, 8), (27, 8), (28, 7), (29, 7)]
    # and back in October
    times = next_fire_times("0 9 * * *", "Europe/Berlin", datetime(2027, 10, 29, tzinfo=UTC), 4)
    assert [(t.day, t.hour) for t in times] == [(29, 7), (30, 7), (31, 8), (1, 8)]
    # New York, 02:30 does not exist on 14 March 2027: it fires once that night, not never
    times = next_fire_times("30 2 * * *", "America/New_York", datetime(2027, 3, 13, 12, tzinfo=UTC), 3)
    assert [t.date().day for t in times] == [14, 15, 16]
    assert times[1] - times[0] == timedelta(hours=24)
    # ... and 01:30 happens twice on 7 November 2027: it fires once
    times = next_fire_times("30 1 * * *", "America/New_York", datetime(2027, 11, 6, 12, tzinfo=UTC), 3)
    assert [t.astimezone(ZoneInfo("America/New_York")).day for t in times] == [7, 8, 9]
    # every 30 minutes through the repeated hour: no duplicates, always forward
    times = next_fire_times("*/30 * * * *", "America/New_York", datetime(2027, 11, 7, 4, tzinfo=UTC), 8)
    assert all(b > a for a, b in zip(times, times[1:]))
    # strictly after the given instant
    assert next_fire_times("0 * * * *", "UTC", datetime(2027, 1, 1, 10, tzinfo=UTC), 1)[0] == \
        datetime(2027, 1, 1, 11, tzinfo=UTC)


# --- property: random valid crons ---------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo",
         "Pacific/Chatham", "Europe/London"]


def field(lo: int, hi: int, top: int | None = None):
    """(text, allowed values) of one cron field; values up to `hi`, the field itself up to `top`
    (a step */k counts up to the field's real top: days of the month to 31)."""
    single = st.integers(lo, hi).map(lambda v: (str(v), {v}))
    rng = st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(sorted).map(
        lambda ab: (f"{ab[0]}-{ab[1]}", set(range(ab[0], ab[1] + 1))))
    step = st.integers(1, max(1, (hi - lo) // 2)).map(lambda k: (f"*/{k}", set(range(lo, (top or hi) + 1, k))))
    lst = st.sets(st.integers(lo, hi), min_size=2, max_size=4).map(
        lambda vs: (",".join(map(str, sorted(vs))), set(vs)))
    return st.one_of(single, rng, step, lst)


def field_or_star(lo: int, hi: int, top: int | None = None):
    return st.one_of(st.just(("*", None)), field(lo, hi, top))


crons = st.tuples(field_or_star(0, 59), field_or_star(0, 23), field_or_star(1, 28, 31), field_or_star(1, 12),
                  field_or_star(0, 6))


def _transitions(tz: str, year: int = 2027) -> list[datetime]:
    """The UTC instants (to the quarter hour) at which the zone's offset changes in `year`."""
    zone, out = ZoneInfo(tz), []
    t = datetime(year, 1, 1, tzinfo=UTC)
    prev = t.astimezone(zone).utcoffset()
    while t.year == year:
        t += timedelta(minutes=15)
        cur = t.astimezone(zone).utcoffset()
        if cur != prev:
            out.append(t)
        prev = cur
    return out


TRANSITIONS = [(tz, t) for tz in ZONES for t in _transitions(tz)]
# Half of the examples start within three hours of a DST change in their zone.
near_dst = st.tuples(st.sampled_from(TRANSITIONS), st.integers(-180 * 60, 180 * 60)).map(
    lambda x: (x[0][0], x[0][1] + timedelta(seconds=x[1])))
anywhere = st.tuples(st.sampled_from(ZONES), st.datetimes(min_value=datetime(2024, 1, 1),
                                                         max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))


def matches(fields, local: datetime) -> bool:
    (_, mins), (_, hours), (_, doms), (_, months), (_, dows) = fields
    ok = (mins is None or local.minute in mins) and (hours is None or local.hour in hours) \
        and (months is None or local.month in months)
    dow = (local.weekday() + 1) % 7          # cron: 0 = Sunday
    if doms is not None and dows is not None:
        day_ok = local.day in doms or dow in dows     # cron's OR when both are restricted
    else:
        day_ok = (doms is None or local.day in doms) and (dows is None or dow in dows)
    return ok and day_ok


@hsettings(max_examples=int(__import__("os").environ.get("CRON_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=crons, where=st.one_of(near_dst, anywhere))
def test_property_next_times_increase_and_match_the_cron(fields, where):
    tz, start = where
    expr = " ".join(text for text, _ in fields)
    times = next_fire_times(expr, tz, start, 6)
    assert times, expr
    assert times[0] > start
    assert all(b > a for a, b in zip(times, times[1:])), (expr, tz, times)
    zone = ZoneInfo(tz)
    for t in times:
        assert t.second == 0 and t.microsecond == 0
        local = t.astimezone(zone)
        if matches(fields, local.replace(tzinfo=None)):
            continue
        # A wall time that does not exist (spring forward) fires at the same instant in the
        # old offset: shifting by the jump must give a matching wall time.
        jump = (t + timedelta(hours=3)).astimezone(zone).utcoffset() - local.utcoffset()
        back = (t - timedelta(hours=3)).astimezone(zone).utcoffset() - local.utcoffset()
        assert any(d and matches(fields, (local + d).replace(tzinfo=None)) for d in (jump, -back, back)), \
            (expr, tz, t, local)


# --- firing -------------------------------------------------------------------------------

async def test_a_due_schedule_fires_exactly_once_with_several_schedulers(app, client, db, tenant_a):
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, simple_graph())
    r = await client.post(f"/api/workflows/{wf}/schedules",
                          json={"cron": "0 0 1 1 *", "timezone": "Europe/Paris", "input": {"who": "cron"}}, headers=h)
    sid = r.json()["id"]
    due = datetime.now(UTC) - timedelta(seconds=5)
    async with db.sessionmaker() as s:
        await s.execute(update(Schedule).where(Schedule.id == sid).values(next_run_at=due, revision=Schedule.revision + 1))
        await s.commit()
        row = await s.get(Schedule, sid)
    # Two schedulers claim the same row at once, two more tick, and the app's own loop runs too.
    schedulers = [Scheduler(app.state) for _ in range(4)]
    now = datetime.now(UTC)
    results = await asyncio.gather(schedulers[0]._fire(row, now), schedulers[1]._fire(row, now),
                                   schedulers[2].tick(), schedulers[3].tick())
    fired = [x for x in results[:2] if x] + [x for ids in results[2:] for x in ids]
    assert len(fired) <= 1
    runs = await wait_for_runs(client, h, wf, 1)
    assert await Scheduler(app.state).tick() == []   # the row moved on to next year: no tick fires it again
    runs = await wait_for_runs(client, h, wf, 1)
    assert len(runs) == 1 and runs[0]["trigger"] == "schedule" and runs[0]["status"] == "succeeded"
    r = await client.get(f"/api/runs/{runs[0]['id']}", headers=h)
    assert r.json()["input"] == {"who": "cron"}
    sch = (await client.get(f"/api/workflows/{wf}/schedules/{sid}", headers=h)).json()
    assert sch["last_run_id"] == runs[0]["id"] and sch["last_error"] is None
    nxt = datetime.fromisoformat(sch["next_run_at"])
    assert nxt > datetime.now(UTC) and nxt.astimezone(ZoneInfo("Europe/Paris")).timetuple()[1:5] == (1, 1, 0, 0)


async def test_a_schedule_that_cannot_start_records_why(app, client, db, tenant_a):
    h = tenant_a.editor.headers
    r = await client.post("/api/workflows", json={"name": "never published", "graph": simple_graph()}, headers=h)
    wf = r.json()["id"]
    sid = (await client.post(f"/api/workflows/{wf}/schedules", json={"cron": "0 0 1 1 *"}, headers=h)).json()["id"]
    async with db.sessionmaker() as s:
        await s.execute(update(Schedule).where(Schedule.id == sid)
                        .values(next_run_at=datetime.now(UTC) - timedelta(seconds=1), revision=Schedule.revision + 1))
        await s.commit()
    await Scheduler(app.state).tick()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while loop.time() < deadline:
        sch = (await client.get(f"/api/workflows/{wf}/schedules/{sid}", headers=h)).json()
        if sch["last_error"]:
            break
        await asyncio.sleep(0.05)
    assert "no published version" in sch["last_error"] and sch["last_run_id"] is None
    assert datetime.fromisoformat(sch["next_run_at"]) > datetime.now(UTC)
