"""Out-of-range input answers 4xx, never 500: integers of 2^63 or more in query, path and body
parameters that reach the database, and unsubscribe tokens that are not ASCII."""

from __future__ import annotations

import pytest

from tests.backend.conftest import assert_problem

HUGE = 2**63

LISTS = ["/api/workflows", "/api/runs", "/api/audit", "/api/email/outbox"]


@pytest.mark.parametrize("path", LISTS)
async def test_an_offset_of_2_to_the_63_is_400(client, tenant_a, path):
    """A list's offset that no database integer holds is refused as 400 naming offset."""
    doc = assert_problem(await client.get(path, params={"offset": HUGE}, headers=tenant_a.owner.headers), 400)
    assert doc["field"] == "offset"


async def test_a_version_of_2_to_the_63_in_the_path_is_4xx(client, tenant_a):
    """Fetching or restoring workflow version 2^63 answers a 4xx problem, not 500."""
    h = tenant_a.editor.headers
    wid = (await client.post("/api/workflows", json={"name": "W"}, headers=h)).json()["id"]
    r = await client.get(f"/api/workflows/{wid}/versions/{HUGE}", headers=h)
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text
    r = await client.post(f"/api/workflows/{wid}/versions/{HUGE}/restore", headers=h)
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text


@pytest.mark.parametrize("value", [str(HUGE), "\u00b2"])
async def test_a_diff_from_an_out_of_range_or_non_ascii_version_is_400(client, tenant_a, value):
    """The diff's version numbers are refused as 400 when no database integer holds them or int() cannot read them."""
    h = tenant_a.editor.headers
    wid = (await client.post("/api/workflows", json={"name": "W"}, headers=h)).json()["id"]
    r = await client.get(f"/api/workflows/{wid}/versions/diff", params={"from_version": value}, headers=h)
    assert assert_problem(r, 400)["field"] == "from_version"


async def test_a_run_of_version_2_to_the_63_is_422(client, tenant_a):
    """Starting a run of published version 2^63 is refused as 422 naming the version field."""
    h = tenant_a.editor.headers
    wid = (await client.post("/api/workflows", json={"name": "W"}, headers=h)).json()["id"]
    r = await client.post(f"/api/workflows/{wid}/runs", json={"source": "published", "version": HUGE}, headers=h)
    assert assert_problem(r, 422)["field"] == "version"



@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_non_ascii_unsubscribe_token_is_404_without_signing_in(client, method):
    """An unsubscribe link whose token holds non-ASCII characters is simply not valid (404), never 500."""
    r = await client.request(method, "/api/email/unsubscribe/%C3%A9t%C3%A9.%C3%A9")
    assert r.status_code == 404, r.text
    assert "not valid" in r.text
