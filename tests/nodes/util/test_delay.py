"""util.delay: sleeps on the context clock, by seconds or until a moment."""

from datetime import datetime, timedelta, timezone

import pytest

from nodes.sdk import NodeConfigError
from nodes.util import delay
from tests.nodes.conftest import FakeClock


async def test_delay_by_seconds_sleeps_and_passes_input(make_ctx):
    clock = FakeClock()
    out = await delay.execute(make_ctx(clock=clock), delay.Config(seconds=90), {"input": {"a": 1}})
    assert out == {"output": {"a": 1}} and clock.slept == [90]


async def test_delay_until_sleeps_the_remaining_time(make_ctx):
    clock = FakeClock()
    until = (clock.now() + timedelta(hours=2)).isoformat()
    await delay.execute(make_ctx(clock=clock), delay.Config(until=until), {})
    assert clock.slept == [7200]


async def test_naive_until_is_utc_and_past_moments_do_not_wait(make_ctx):
    clock = FakeClock()
    await delay.execute(make_ctx(clock=clock), delay.Config(until="2029-12-31T00:00:00"), {})
    assert clock.slept == []


async def test_until_more_than_30_days_away_is_refused(make_ctx):
    clock = FakeClock()
    with pytest.raises(NodeConfigError) as err:
        await delay.execute(make_ctx(clock=clock), delay.Config(until=clock.now() + timedelta(days=31)), {})
    assert err.value.pointer == "/until"


async def test_exactly_one_of_seconds_or_until_is_required(make_ctx):
    with pytest.raises(NodeConfigError):
        await delay.execute(make_ctx(clock=FakeClock()), delay.Config(), {})
    with pytest.raises(NodeConfigError):
        await delay.execute(make_ctx(clock=FakeClock()),
                            delay.Config(seconds=1, until=datetime(2031, 1, 1, tzinfo=timezone.utc)), {})


def test_seconds_are_capped_at_30_days_and_the_node_waits():
    with pytest.raises(Exception):
        delay.Config(seconds=31 * 86400)
    assert delay.SPEC.waits and delay.SPEC.default_timeout_s > 30 * 86400
