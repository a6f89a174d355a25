"""y-websocket framing: every message kind encodes and decodes back to itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pycrdt import Doc, Map, create_sync_message, create_update_message

from backend.collab import protocol as p


@given(st.binary(max_size=600))
def test_sync_messages_round_trip(payload):
    """Step 1, step 2 and update carry their payload unchanged, whatever its length (varuint)."""
    for build, sub in ((p.sync_step1, p.STEP1), (p.sync_step2, p.STEP2), (p.sync_update, p.UPDATE)):
        assert p.decode(build(payload)) == p.Message(p.SYNC, sub, payload)


def test_matches_pycrdt_encoding():
    """Our frames are byte for byte pycrdt's (and so yjs')."""
    doc = Doc()
    doc.get("m", type=Map)["k"] = "v"
    assert p.sync_step1(doc.get_state()) == create_sync_message(doc)
    assert p.sync_update(doc.get_update()) == create_update_message(doc.get_update())


ids = st.integers(min_value=0, max_value=2**53)
states = st.one_of(st.none(), st.fixed_dictionaries({"user": st.fixed_dictionaries(
    {"id": st.text(max_size=8), "name": st.text(max_size=12)})}))


@given(st.lists(st.builds(p.AwarenessEntry, ids, st.integers(0, 2**31), states), max_size=5))
def test_awareness_round_trip(entries):
    """Awareness updates round-trip, non-ASCII names included (byte lengths, not characters)."""
    message = p.awareness(p.encode_awareness(entries))
    decoded = p.decode(message)
    assert decoded.type == p.AWARENESS
    assert p.decode_awareness(decoded.payload) == entries


def test_query_awareness_and_auth():
    """Query awareness is a bare type byte."""
    assert p.decode(p.query_awareness()) == p.Message(p.QUERY_AWARENESS)


@pytest.mark.parametrize("junk", [b"", b"\x00", b"\x00\x07\x00", b"\x00\x01\x05ab", b"\x09", b"\x01\x03\x01"])
def test_malformed_messages_raise_protocol_error(junk):
    """Truncated or unknown messages raise ProtocolError, never something else."""
    with pytest.raises(p.ProtocolError):
        msg = p.decode(junk)
        if msg.type == p.AWARENESS:
            p.decode_awareness(msg.payload)
