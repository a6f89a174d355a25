"""An invitation whose address cannot be mailed (issue 13): the link is the way in."""

from __future__ import annotations

from tests.backend.conftest import assert_problem


async def test_an_unmailable_address_is_invited_with_the_link_only(client, tenant_a):
    """Inviting an address that is valid but that the mail headers' check refuses (the .test domain)
    still creates the invitation and answers its link (201), with nothing in the outbox, not a 500;
    a special-use domain such as .local is refused up front (422 naming the field)."""
    assert_problem(await client.post("/api/members/invitations", json={"email": "x@intranet.local", "role": "viewer"},
                                     headers=tenant_a.owner.headers), 422)
    address = "newcomer@example.test"
    r = await client.post("/api/members/invitations", json={"email": address, "role": "viewer"},
                          headers=tenant_a.owner.headers)
    assert r.status_code == 201, r.text
    assert r.json()["url"].rsplit("/", 1)[-1]
    outbox = (await client.get("/api/email/outbox", headers=tenant_a.owner.headers)).json()
    assert all(m["recipient"] != address for m in outbox)
