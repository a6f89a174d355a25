"""An approver without an account opens the mailed approval link, decides on the page, and the run
goes on; the same link opened again is refused. Both pages pass axe-core."""

from __future__ import annotations

from typing import Any

from tests.backend.approvals.support import approval_graph
from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import axe_violations, link_from_outbox, open_page, read_as, unique_email  # noqa: F401
from tests.e2e.test_editor import eventually


async def _run_status(api: Any, tenant: TenantFixture, run_id: str, *statuses: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        run = (await api.get(f"/api/runs/{run_id}", headers=tenant.editor.headers)).json()
        return run if run["status"] in statuses else None
    return await eventually(check, f"run {run_id} is {' or '.join(statuses)}", timeout=20)


async def test_an_approver_decides_through_the_mailed_link_and_cannot_use_it_twice(
        open_page, api, server: LiveServer, tenant: TenantFixture) -> None:
    """The link from the outbox opens the form signed out; Approve resumes the run; the link then says it was used."""
    approver = unique_email("approver")
    r = await api.post("/api/runs", json={"graph": approval_graph([approver]), "input": {"campaign": "spring sale"}},
                       headers=tenant.editor.headers)
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    await _run_status(api, tenant, run_id, "waiting")
    token = await link_from_outbox(read_as(server, tenant.editor), approver, "api/approvals")
    url = f"{server.url}/api/approvals/{token}"

    page = await open_page(url)
    await page.get_by_role("heading", name="Ship the campaign?").wait_for()
    assert "spring sale" in await page.locator("pre").inner_text()
    found = await axe_violations(page)
    assert not found, "approval page:\n  " + "\n  ".join(found)
    await page.get_by_label("note").fill("looks right")
    await page.get_by_label("score").fill("8")
    await page.get_by_role("button", name="Approve").click()
    await page.get_by_role("heading", name="You approved it").wait_for()

    run = await _run_status(api, tenant, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    ok = next(n for n in run["nodes"] if n["node_id"] == "ok")
    assert ok["output"]["approved"]["data"] == {"note": "looks right", "score": 8}
    assert ok["output"]["approved"]["decided_by"]["email"] == approver
    assert next(n for n in run["nodes"] if n["node_id"] == "yes")["status"] == "succeeded"

    again = await open_page(url)                                     # the same link, a second time
    await again.get_by_role("heading", name="Already decided").wait_for()
    assert "already used" in await again.get_by_role("alert").inner_text()
    found = await axe_violations(again)
    assert not found, "refusal page:\n  " + "\n  ".join(found)
