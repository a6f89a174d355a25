"""Cron semantics from Prefect: `prefect.server.schemas.schedules.CronSchedule` validates the
expression and computes fire times in an IANA time zone, DST included (see docs/triggers.md).

Behaviour across DST, as Prefect defines it: a wall-clock time that does not exist (02:30 on
the spring-forward night in New York) fires an hour early in the old offset (01:30 EST, the
same instant as the missing 02:30 EDT would have been had clocks not moved), and a time that
occurs twice (01:30 on the fall-back night) fires once, the first time."""

from __future__ import annotations

from datetime import datetime, timezone
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
    try:
        validate_cron_string(expr)
    except ValueError as exc:
        raise CronError(f"invalid cron expression {expr!r}: {exc}") from None
    return expr


def _schedule(expr: str, tz: str):
    from prefect.server.schemas.schedules import CronSchedule

    return CronSchedule(cron=check_cron(expr), timezone=check_timezone(tz))


def next_fire_times(expr: str, tz: str, after: datetime, n: int = 5) -> list[datetime]:
    """The next `n` fire times strictly after `after`, as UTC datetimes."""
    if after.tzinfo is None:
        after = after.replace(tzinfo=timezone.utc)
    # Prefect returns dates on or after `start`; start one second after, on a whole second.
    start = after.replace(microsecond=0).astimezone(timezone.utc)
    from datetime import timedelta

    start = start + timedelta(seconds=1)
    dates = sorted(_schedule(expr, tz)._get_dates_generator(n=min(n, MAX_NEXT), start=start))
    return [datetime.fromtimestamp(d.timestamp(), timezone.utc) for d in dates]


def next_fire_time(expr: str, tz: str, after: datetime) -> datetime | None:
    times = next_fire_times(expr, tz, after, 1)
    return times[0] if times else None
