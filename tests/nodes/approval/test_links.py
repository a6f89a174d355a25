"""Signed approval links: a genuine token reads back its claim; any change, or another key, does not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from nodes.approval.links import ApprovalLinks, LinkClaim

CLAIM = LinkClaim("t1", "run1", "ok", "boss@example.com", datetime(2030, 1, 1, tzinfo=timezone.utc))


def test_a_token_reads_back_its_claim_and_the_url_points_at_the_page():
    """tenant, run, node, address and deadline survive the round trip."""
    links = ApprovalLinks(["k1"], "https://flow.example.com/")
    assert links.read(links.token(CLAIM)) == CLAIM
    assert links.url(CLAIM).startswith("https://flow.example.com/api/approvals/")


@given(st.integers(min_value=0), st.characters(codec="ascii", categories=["L", "N"]))
def test_changing_any_character_of_a_token_breaks_it(position, char):
    """A token with one character replaced is never accepted."""
    links = ApprovalLinks(["k1"], "http://x")
    token = links.token(CLAIM)
    i = position % len(token)
    forged = token[:i] + char + token[i + 1:]
    if forged != token:
        assert links.read(forged) is None


def test_another_key_refuses_and_a_previous_key_still_verifies():
    """A token of another instance is refused; after a rotation the previous key still reads old links."""
    old = ApprovalLinks(["old"], "http://x").token(CLAIM)
    assert ApprovalLinks(["other"], "http://x").read(old) is None
    assert ApprovalLinks(["new", "old"], "http://x").read(old) == CLAIM


def test_a_claim_expires_at_its_deadline_and_none_never_does():
    """`expired` compares the deadline with now; a link without a deadline never expires."""
    now = datetime.now(timezone.utc)
    assert LinkClaim("t", "r", "n", "e", now - timedelta(seconds=1)).expired()
    assert not LinkClaim("t", "r", "n", "e", now + timedelta(hours=1)).expired()
    assert not LinkClaim("t", "r", "n", "e", None).expired()
