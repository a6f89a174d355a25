"""The secret warning in Chromium (editor/src/credentials/SecretFindingsDialog.tsx): a graph pasted
with a literal "Bearer ..." header is flagged, and "Move into a credential" makes the credential,
points the node at it and drops the header, all from the keyboard; the credentials screen and the
dialog pass axe-core without a critical or serious violation."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.credentials_support import BearerApi, bearer_api, make_credential, manual_then_request, server  # noqa: F401
from tests.e2e.teams_support import api_as, axe_violations
from tests.e2e.test_editor import by_id, eventually, open_canvas, rest_graph, select


async def paste_graph(page: Any, graph: dict[str, Any]) -> None:
    """What Ctrl+V does on the canvas with graph JSON copied (in another tab or workflow)."""
    await page.evaluate("t => localStorage.setItem('maily:clipboard', t)", json.dumps(graph))
    await page.get_by_test_id("canvas").click(position={"x": 400, "y": 300})
    await page.keyboard.press("Control+v")


async def open_empty_canvas(page: Any, server: LiveServer, make_workflow) -> str:
    wf = await make_workflow()
    await open_canvas(page, server, wf["id"])
    return wf["id"]


def pasted_with_secret(url: str, token: str) -> dict[str, Any]:
    graph = manual_then_request(url, {"headers": {"Authorization": f"Bearer {token}", "Accept": "application/json"}})
    graph["name"] = "clipboard"
    return graph


async def test_a_pasted_bearer_header_moves_into_a_credential_from_the_keyboard(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow, bearer_api: tuple[BearerApi, str]) -> None:
    """Pasting a graph whose HTTP node sends a literal bearer token opens the warning with the focus
    in it; Tab and Enter on "Move into a credential" create a bearer credential from the token, the
    node uses it, the header is gone, and a run still authorizes against the loopback API."""
    api, base = bearer_api
    page = await sign_in(tenant.editor)
    workflow_id = await open_empty_canvas(page, server, make_workflow)
    await paste_graph(page, pasted_with_secret(f"{base}/me", api.token))

    dialog = page.get_by_role("dialog", name="This graph carries secrets")
    await dialog.wait_for()
    finding = page.locator('[data-testid^="finding-"][data-field="/headers/Authorization"]')
    assert await finding.count() == 1
    # the focus is inside the dialog; the name field comes first, then the move button
    assert await page.evaluate("() => !!document.activeElement.closest('[role=dialog]')")
    name = await page.get_by_test_id("finding-0-name").input_value()
    assert name
    await page.get_by_test_id("finding-0-name").focus()
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.dataset.testid") == "finding-0-move"
    await page.keyboard.press("Enter")
    await page.get_by_test_id("finding-0-moved").wait_for()

    made = [c for c in (await api_as(server, tenant.editor, "GET", "/api/credentials")).json() if c["name"] == name]
    assert len(made) == 1 and made[0]["type"] == "bearer"

    async def moved() -> dict[str, Any] | None:
        nodes = [n for n in (await rest_graph(server, tenant.editor, workflow_id))["nodes"] if n["type"] == "http.request"]
        config = nodes[0]["config"] if nodes else {}
        return config if config.get("credential") == made[0]["id"] and "Authorization" not in config.get("headers", {}) else None

    config = await eventually(moved, "the node uses the credential and the header is gone")
    assert config["headers"] == {"Accept": "application/json"}

    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")
    r = await api_as(server, tenant.editor, "POST", f"/api/workflows/{workflow_id}/runs", json={"input": {}, "source": "draft"})
    assert r.status_code in (200, 201, 202), r.text
    run_id = r.json()["id"]

    async def ended() -> str | None:
        s = (await api_as(server, tenant.editor, "GET", f"/api/runs/{run_id}")).json()["status"]
        return s if s in ("succeeded", "failed") else None

    assert await eventually(ended, "the run ended", timeout=20) == "succeeded"
    assert api.seen[-1] == f"Bearer {api.token}"


async def test_keep_as_is_and_escape_close_the_warning_and_change_nothing(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """Tab stays inside the warning (it wraps around), Escape closes it and gives the focus back,
    and keeping the literal creates no credential and leaves the header in the graph."""
    page = await sign_in(tenant.editor)
    workflow_id = await open_empty_canvas(page, server, make_workflow)
    await paste_graph(page, pasted_with_secret("https://api.example.com/x", "tok-kept-literal-123"))
    dialog = page.get_by_role("dialog")
    await dialog.wait_for()
    for _ in range(6):
        await page.keyboard.press("Tab")
        assert await page.evaluate("() => !!document.activeElement.closest('[role=dialog]')")
    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("() => !!document.activeElement.closest('[role=dialog]')")
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="detached")

    graph = await rest_graph(server, tenant.editor, workflow_id)
    headers = [n["config"].get("headers", {}) for n in graph["nodes"] if n["type"] == "http.request"]
    assert headers == [{"Authorization": "Bearer tok-kept-literal-123", "Accept": "application/json"}]
    assert (await api_as(server, tenant.editor, "GET", "/api/credentials")).json() == []


async def test_the_credential_picker_works_from_the_keyboard(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """In an HTTP node's form, the credential select is reached with Tab and set with the arrow keys."""
    credential_id = await make_credential(server, tenant, "Keyboard", "tok-keyboard")
    wf = await make_workflow(manual_then_request("https://api.example.com/x"))
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await select(page, "request")
    await page.get_by_test_id("config-url").focus()
    for _ in range(40):   # Tab through the form until the picker has the focus
        if await page.evaluate("() => document.activeElement.dataset.testid") == "config-credential":
            break
        await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.dataset.testid") == "config-credential"
    await page.locator('[data-testid="config-credential"] option', has_text="Keyboard").wait_for(state="attached")
    await page.keyboard.press("ArrowDown")

    async def picked() -> bool:
        return by_id(await rest_graph(server, tenant.editor, wf["id"]))["request"]["config"].get("credential") == credential_id

    await eventually(picked, "the node uses the credential chosen with the keyboard")


async def test_the_credentials_screen_and_the_warning_have_no_serious_axe_violation(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """The credentials screen (a list, the create form), a node's credential picker with its create
    form, and the secret warning pass axe-core without a critical or serious violation."""
    await make_credential(server, tenant, "Axe", "tok-axe-1234")
    page = await sign_in(tenant.owner)
    await page.goto(server.url + "/settings/credentials")
    await page.get_by_test_id("credentials-table").wait_for()
    found = await axe_violations(page)
    assert not found, "credentials screen:\n  " + "\n  ".join(found)
    await page.get_by_test_id("credential-new").click()
    await page.get_by_test_id("credential-form").wait_for()
    found = await axe_violations(page)
    assert not found, "credential form:\n  " + "\n  ".join(found)

    wf = await make_workflow(manual_then_request("https://api.example.com/x"))
    await open_canvas(page, server, wf["id"])
    await select(page, "request")
    await page.get_by_test_id("config-credential-new").click()
    await page.get_by_test_id("config-credential-create-form").wait_for()
    found = await axe_violations(page, '[data-testid="side-panel"]')
    assert not found, "credential picker:\n  " + "\n  ".join(found)

    await paste_graph(page, pasted_with_secret("https://api.example.com/x", "tok-axe-literal-5678"))
    await page.get_by_role("dialog").wait_for()
    found = await axe_violations(page, '[role="dialog"]')
    assert not found, "secret warning:\n  " + "\n  ".join(found)


async def test_a_template_with_a_literal_token_warns_on_upload_and_on_import(sign_in, server: LiveServer,
                                                                            tenant: TenantFixture) -> None:
    """Pasting into the gallery a graph whose HTTP node carries a literal bearer token warns at once;
    importing it opens the new workflow's canvas with the warning naming that node and header."""
    doc = pasted_with_secret("https://api.example.com/x", "tok-in-a-template-42")
    doc["name"] = "Template with a token"
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/templates")
    await page.get_by_test_id("template-paste-toggle").click()
    await page.get_by_test_id("template-paste-input").fill(json.dumps(doc))
    await page.get_by_test_id("template-paste-submit").click()
    await page.get_by_test_id("template-secrets").wait_for()
    await page.get_by_test_id("template-detail").wait_for()
    await page.get_by_test_id("template-import").click()
    await page.get_by_role("dialog", name="This graph carries secrets").wait_for()
    finding = page.locator('[data-testid^="finding-"][data-field="/headers/Authorization"]')
    assert await finding.get_attribute("data-node") == "request"


def _request(node_id: str, x: int, config: dict[str, Any]) -> dict[str, Any]:
    return {"id": node_id, "type": "http.request", "type_version": 1, "position": {"x": x, "y": 200}, "config": config}


async def test_a_key_in_the_url_a_header_key_and_a_basic_login_each_move_into_their_type(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """A key in a URL's query string becomes a query credential and leaves the URL without it; an
    API-key header becomes a header credential; a Basic header becomes a basic credential with its
    username and password; each node then uses its credential and keeps no literal."""
    key, gh = "sk-live-" + "Ab3dEf6hIj9kLm2nOp5q", "ghp_" + "Zx8cVb7nMa6sDf5gHj4kLq3wEr2tYu1iOp0a"
    login = base64.b64encode(b"ada:secret-password-123").decode()
    graph = {"schema_version": 1, "name": "clipboard", "edges": [], "nodes": [
        _request("url_key", 0, {"url": f"https://api.example.com/items?api_key={key}&page=2"}),
        _request("header_key", 320, {"url": "https://api.example.com/a", "headers": {"X-Api-Key": gh}}),
        _request("basic", 640, {"url": "https://api.example.com/b", "headers": {"Authorization": f"Basic {login}"}}),
    ]}
    page = await sign_in(tenant.editor)
    workflow_id = await open_empty_canvas(page, server, make_workflow)
    await paste_graph(page, graph)
    await page.get_by_role("dialog").wait_for()
    rows = page.locator('[data-testid^="finding-"][data-node]')
    assert await rows.count() == 3
    for i in range(3):
        await rows.nth(i).locator('[data-testid$="-move"]').click()
        await rows.nth(i).locator('[data-testid$="-moved"]').wait_for()

    creds = {c["type"]: c for c in (await api_as(server, tenant.editor, "GET", "/api/credentials")).json()}
    assert sorted(creds) == ["basic", "header", "query"]
    assert creds["query"]["fields"] == {"name": "api_key"} and creds["header"]["fields"] == {"name": "X-Api-Key"}
    assert creds["basic"]["fields"] == {"username": "ada"}

    async def all_moved() -> dict[str, Any] | None:
        nodes = (await rest_graph(server, tenant.editor, workflow_id))["nodes"]
        moved = {n["config"]["url"]: n["config"] for n in nodes if n["config"].get("credential")}
        return moved if len(moved) == 3 else None

    configs = await eventually(all_moved, "the three nodes use their credentials")
    assert configs["https://api.example.com/items?page=2"]["credential"] == creds["query"]["id"]
    assert configs["https://api.example.com/a"]["credential"] == creds["header"]["id"]
    assert configs["https://api.example.com/b"]["credential"] == creds["basic"]["id"]
    assert all(not c.get("headers") for c in configs.values())
    assert key not in json.dumps(configs) and gh not in json.dumps(configs) and login not in json.dumps(configs)


async def test_a_node_with_two_secrets_takes_one_credential(sign_in, server: LiveServer, tenant: TenantFixture,
                                                            make_workflow) -> None:
    """A node carrying a bearer header and a key in its query moves one into a credential; the other
    is then not offered (a node takes one credential) and stays as it was."""
    key = "sk-live-" + "Qw9eRt8yUi7oPa6sDf5g"
    graph = {"schema_version": 1, "name": "clipboard", "edges": [], "nodes": [_request("both", 0, {
        "url": "https://api.example.com/x", "headers": {"Authorization": "Bearer tok-" + "a1B2c3D4e5F6g7H8i9J0"},
        "query": {"key": key}})]}
    page = await sign_in(tenant.editor)
    workflow_id = await open_empty_canvas(page, server, make_workflow)
    await paste_graph(page, graph)
    header = page.locator('[data-testid^="finding-"][data-field="/headers/Authorization"]')
    query = page.locator('[data-testid^="finding-"][data-field="/query/key"]')
    await header.locator('[data-testid$="-move"]').click()
    await header.locator('[data-testid$="-moved"]').wait_for()
    await query.locator('[data-testid$="-taken"]').wait_for()
    assert await query.locator('[data-testid$="-move"]').count() == 0

    async def moved() -> dict[str, Any] | None:
        config = (await rest_graph(server, tenant.editor, workflow_id))["nodes"][0]["config"]
        return config if config.get("credential") and not config.get("headers") else None

    assert (await eventually(moved, "the header moved"))["query"] == {"key": key}
