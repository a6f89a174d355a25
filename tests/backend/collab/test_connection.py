"""A connection's outgoing buffer: order kept, a backlog of updates sent as one merged update."""

from __future__ import annotations

import asyncio

from pycrdt import Doc, Map

from backend.collab import protocol as p
from backend.collab.rooms import Connection


async def until(check, timeout: float = 2) -> None:
    """Until check() holds (the pump task runs in this loop)."""
    async def wait() -> None:
        while not check():
            await asyncio.sleep(0)
    await asyncio.wait_for(wait(), timeout)


async def test_a_backlog_of_updates_goes_out_merged_in_order():
    """Updates waiting in a row reach a lagging client as one message that gives the same
    document; other messages keep their place between them."""
    source, updates = Doc(), []
    source.observe(lambda e: updates.append(e.update))
    for i in range(5):
        source.get("m", type=Map)[f"k{i}"] = i
    conn, sent = Connection(read_only=False), []

    async def send(event: dict) -> None:
        sent.append(event["bytes"])

    async def close(code: int, reason: str) -> None:
        sent.append(("closed", code))

    presence = p.awareness(p.encode_awareness([p.AwarenessEntry(7, 1, {"cursor": None})]))
    for u in updates[:3]:
        conn.send(p.sync_update(u), u)
    conn.send(presence)
    for u in updates[3:]:
        conn.send(p.sync_update(u), u)
    pump = asyncio.create_task(conn.pump(send, close))
    await until(lambda: len(sent) == 3)
    assert sent[1] == presence
    replica = Doc()
    for message in (sent[0], sent[2]):
        msg = p.decode(message)
        assert (msg.type, msg.sub_type) == (p.SYNC, p.UPDATE)
        replica.apply_update(msg.payload)
    assert replica.get("m", type=Map).to_py() == {f"k{i}": i for i in range(5)}
    conn.send(p.sync_update(updates[0]), updates[0])  # a lone update goes out as it came
    await until(lambda: len(sent) == 4)
    assert sent[3] == p.sync_update(updates[0])
    conn.close(1001, "bye")
    await asyncio.wait_for(pump, 1)
    assert sent[4] == ("closed", 1001)


async def test_an_idle_connection_writes_at_once_and_a_busy_one_keeps_the_order():
    """With a direct writer, a message to an idle connection is written at once, already framed; once the
    writer refuses (a paused socket), that message and every later one go through the pump, in order."""
    from backend.collab.send import frame

    conn, written, pumped = Connection(read_only=False), [], []
    accept = True

    def direct(framed: bytes) -> bool:
        if accept:
            written.append(framed)
        return accept

    async def send(event: dict) -> None:
        pumped.append(event["bytes"])

    async def close(code: int, reason: str) -> None:
        pass

    pump = asyncio.create_task(conn.pump(send, close))
    await asyncio.sleep(0)
    conn.direct = direct  # as direct_writer gives for uvicorn's sans-I/O protocol
    conn.send(b"one", framed=frame(b"one"))
    conn.send(b"two")
    assert written == [frame(b"one"), frame(b"two")] and conn.direct_sends == 2 and pumped == []
    accept = False
    conn.send(b"three")
    accept = True
    conn.send(b"four")  # the pump has "three" waiting: "four" must not overtake it
    await until(lambda: len(pumped) == 2)
    assert pumped == [b"three", b"four"] and len(written) == 2
    conn.send(b"five")  # idle again: at once
    assert written[-1] == frame(b"five")
    conn.close(1000, "done")
    await asyncio.wait_for(pump, 1)
