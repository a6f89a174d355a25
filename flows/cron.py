"""Cron semantics from Prefect: `prefect.server.schemas.schedules.CronSchedule` validates the
expression and computes fire times in an IANA time zone, DST included (see docs/triggers.md).

Behaviour across DST, as Prefect defines it: a wall-clock time that does not exist (02:30 on
the spring-forward night in New York) fires an hour early in the old offset (01:30 EST, the
same instant as the missing 02:30 EDT would have been had clocks not moved), and a time that
occurs twice (01:30 on the fall-back night) fires once, the first time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MAX_NEXT = 50


class CronError(ValueError):
    """A cron expression or time zone we refuse; the message says why."""


def check_timezone(tz: str) -> str:
    if not tz or tz != tz.strip():
        raise CronError("time zone must be an IANA name such as Europe/Paris or UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {tz!r}; use an IANA name such as Europe/Paris or UTC") from None
    if tz not in _zones() and tz != "UTC":
        raise CronError(f"unknown time zone {tz!r}; use an IANA name such as Europe/Paris or UTC")
    return tz


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


_ZONES: set[str] | None = None


def check_cron(expr: str) -> str:
    """Five fields (minute hour day-of-month month day-of-week) or an @alias (@hourly, @daily...)."""
    from prefect._internal.schemas.validators import validate_cron_string

    expr = " ".join(expr.split())
    if not expr:
        raise CronError("cron expression is empty; e.g. '0 9 * * 1-5' (09:00 on weekdays)")
    if not expr.startswith("@") and len(expr.split(" ")) != 5:
        raise CronError(f"cron expression {expr!r} must have 5 fields: minute hour day-of-month month day-of-week")
    expr = _normalise(expr)
    try:
        validate_cron_string(expr)
    except ValueError as exc:
        raise CronError(f"invalid cron expression {expr!r}: {exc}") from None
    return expr


_SAME_RANGE = re.compile(r"^(\d+)-(\d+)(/\d+)?$")


def _normalise(expr: str) -> str:
    """Write one-value ranges ("3-3") as the value: the croniter Prefect vendors reads "a-a"
    as "*" (every value), so "* * * * 0-0" would fire every minute instead of on Sundays."""
    if expr.startswith("@"):
        return expr
    fields = []
    for f in expr.split(" "):
        parts = []
        for part in f.split(","):
            m = _SAME_RANGE.match(part)
            if m and int(m.group(1)) > int(m.group(2)):
                raise CronError(f"cron range {part!r} goes backwards; write it low-high")
            parts.append(m.group(1) if m and int(m.group(1)) == int(m.group(2)) else part)
        fields.append(",".join(parts))
    return " ".join(fields)


def _schedule(expr: str, tz: str):
    from prefect.server.schemas.schedules import CronSchedule

    return CronSchedule(cron=check_cron(expr), timezone=check_timezone(tz))


def _raw(expr: str, tz: str, start: datetime, n: int) -> list[datetime]:
    """Prefect's dates on or after `start` (a whole second), as UTC datetimes."""
    schedule = _schedule(expr, tz)
    try:
        return sorted(datetime.fromtimestamp(d.timestamp(), timezone.utc)
                      for d in schedule._get_dates_generator(n=n, start=start))
    except ValueError:   # croniter's "failed to find next date": 0 0 30 2 * never comes
        return []


def next_fire_times(expr: str, tz: str, after: datetime, n: int = 5) -> list[datetime]:
    """The next `n` fire times strictly after `after`, increasing, as UTC datetimes.

    Prefect resolves a wall time of the repeated hour (fall-back night) to its first
    occurrence; asked from inside the second occurrence it answers times already past
    (Pacific/Chatham, 7 April 2024: "* * * * *" from 14:00 UTC gives 13:01 UTC). A
    scheduler fed those would fire every tick until the hour is over, so past answers are
    dropped and the search moves on in quarter hours until it is beyond the repeated span."""
    if after.tzinfo is None:
        after = after.replace(tzinfo=timezone.utc)
    after = after.astimezone(timezone.utc)
    n = max(1, min(n, MAX_NEXT))
    cursor = after.replace(microsecond=0) + timedelta(seconds=1)
    out: list[datetime] = []
    for _ in range(24):   # 24 quarter hours: longer than any DST shift
        batch = _raw(expr, tz, cursor, n - len(out))
        if not batch:
            break
        last = out[-1] if out else after
        fresh = [d for d in batch if d > last]
        out.extend(fresh)
        if len(out) >= n:
            break
        if fresh:
            cursor = out[-1] + timedelta(seconds=1)
        else:   # on to the next quarter hour (DST changes happen on quarter hours in UTC)
            cursor = cursor.replace(minute=cursor.minute - cursor.minute % 15, second=0) + timedelta(minutes=15)
    return out[:n]


def next_fire_time(expr: str, tz: str, after: datetime) -> datetime | None:
    times = next_fire_times(expr, tz, after, 1)
    return times[0] if times else None
