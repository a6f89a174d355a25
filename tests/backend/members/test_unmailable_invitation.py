"""An invitation whose address cannot be mailed (issue 13): the link is the way in."""

from __future__ import annotations


async def test_an_unmailable_address_is_invited_with_the_link_only(client, tenant_a):
    """Inviting an address the mail headers' check refuses (a special-use domain) still creates the
    invitation and answers its link (201), with nothing in the outbox, instead of a 500."""
    address = "newcomer@intranet.local"
    r = await client.post("/api/members/invitations", json={"email": address, "role": "viewer"},
                          headers=tenant_a.owner.headers)
    assert r.status_code == 201, r.text
    assert r.json()["url"].rsplit("/", 1)[-1]
    outbox = (await client.get("/api/email/outbox", headers=tenant_a.owner.headers)).json()
    assert all(m["recipient"] != address for m in outbox)
