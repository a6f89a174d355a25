"""The credentials screen and the node form's credential picker in Chromium (editor/src/credentials/):
a bearer credential made on the settings screen, picked in an HTTP request node, authorizes a real
loopback API; its secret never comes back to the browser."""

from __future__ import annotations

from typing import Any

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.credentials_support import BearerApi, bearer_api, make_credential, manual_then_request, server  # noqa: F401
from tests.e2e.teams_support import api_as
from tests.e2e.test_editor import by_id, connect, drag_from_palette, eventually, live, open_canvas, rest_graph, select


async def create_on_screen(page: Any, server: LiveServer, name: str, token: str) -> None:
    """The settings screen's form: a new bearer credential."""
    await page.goto(server.url + "/settings/credentials")
    await page.get_by_test_id("credential-new").click()
    await page.get_by_test_id("credential-name").fill(name)
    await page.get_by_test_id("credential-type").select_option("bearer")
    await page.get_by_test_id("credential-token").fill(token)
    await page.get_by_test_id("credential-save").click()
    await page.get_by_test_id(f"credential-{name}").wait_for()


async def test_a_credential_made_on_the_settings_screen_authorizes_an_http_node_run(
        sign_in, server: LiveServer, tenant: TenantFixture, bearer_api: tuple[BearerApi, str]) -> None:
    """I create a bearer credential on the settings screen, add an HTTP request node to a workflow,
    pick the credential, set the URL of a loopback API that requires that bearer, run, and the run
    succeeds; the graph holds only the credential's id."""
    api, base = bearer_api
    page = await sign_in(tenant.editor)
    await create_on_screen(page, server, "Billing API", api.token)
    assert await page.get_by_test_id("credential-saved").is_visible()
    assert api.token not in await page.content()

    await page.goto(server.url + "/")
    await page.get_by_test_id("workflow-create").click()
    await live(page)
    workflow_id = page.url.rsplit("/", 1)[-1]
    trigger = await drag_from_palette(page, "trigger.manual", 150, 200)
    request = await drag_from_palette(page, "http.request", 550, 220)
    await connect(page, trigger, "output", request, "input")
    await page.locator(".react-flow__edge").first.wait_for()
    await select(page, request)
    await page.get_by_test_id("config-url").fill(f"{base}/me")
    picker = page.get_by_test_id("config-credential")
    await picker.select_option(label="Billing API (bearer)")

    async def stored() -> dict[str, Any] | None:
        graph = await rest_graph(server, tenant.editor, workflow_id)
        node = by_id(graph).get(request, {})
        return graph if node.get("config", {}).get("credential") and graph["edges"] else None

    graph = await eventually(stored, "the node's credential is in the draft")
    credential_id = by_id(graph)[request]["config"]["credential"]
    listed = (await api_as(server, tenant.editor, "GET", "/api/credentials")).json()
    assert [c["id"] for c in listed if c["name"] == "Billing API"] == [credential_id]

    await page.get_by_test_id("run-button").click()
    await page.get_by_test_id("run-start").click()
    await page.locator('[data-testid="run-bar"][data-status="succeeded"]').wait_for(timeout=20_000)
    assert api.seen[-1] == f"Bearer {api.token}"
    assert api.token not in await page.content()


async def test_the_picker_creates_a_credential_in_place_and_selects_it(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """"New credential…" in an HTTP node's form opens the create form in the panel, offers only the
    types the node accepts, and the credential it makes is the node's at once."""
    wf = await make_workflow(manual_then_request("https://api.example.com/x"))
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await select(page, "request")
    await page.get_by_test_id("config-credential-new").click()
    offered = await page.get_by_test_id("config-credential-create-type").evaluate("s => [...s.options].map(o => o.value)")
    assert "bearer" in offered and "smtp" not in offered and "postgres" not in offered
    await page.get_by_test_id("config-credential-create-name").fill("Made in the node")
    await page.get_by_test_id("config-credential-create-type").select_option("bearer")
    await page.get_by_test_id("config-credential-create-token").fill("tok-in-the-panel")
    await page.get_by_test_id("config-credential-create-save").click()
    await page.get_by_test_id("config-credential-create").wait_for(state="detached")

    made = [c for c in (await api_as(server, tenant.editor, "GET", "/api/credentials")).json() if c["name"] == "Made in the node"]
    assert len(made) == 1

    async def picked() -> bool:
        return by_id(await rest_graph(server, tenant.editor, wf["id"]))["request"]["config"].get("credential") == made[0]["id"]

    await eventually(picked, "the node uses the new credential")
    assert await page.get_by_test_id("config-credential").input_value() == made[0]["id"]


async def test_an_edit_with_a_blank_secret_keeps_it_and_the_test_says_ok(
        sign_in, server: LiveServer, tenant: TenantFixture, bearer_api: tuple[BearerApi, str]) -> None:
    """Editing a credential shows its secret field empty; saving a new name with it blank keeps the
    token, which the Test button then proves against the loopback API (ok)."""
    api, base = bearer_api
    await make_credential(server, tenant, "Kept", api.token)
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/settings/credentials")
    await page.get_by_test_id("credential-edit-Kept").click()
    token = page.get_by_test_id("credential-token")
    assert await token.input_value() == "" and await token.get_attribute("type") == "password"
    await page.get_by_test_id("credential-name").fill("Kept renamed")
    await page.get_by_test_id("credential-save").click()
    await page.get_by_test_id("credential-Kept renamed").wait_for()

    await page.get_by_test_id("credential-test-Kept renamed-url").fill(f"{base}/me")
    await page.get_by_test_id("credential-test-Kept renamed").click()
    result = page.locator('[data-testid="credential-test-Kept renamed-result"][data-ok]')
    await result.wait_for()
    assert await result.get_attribute("data-ok") == "true", await result.text_content()
    assert api.seen[-1] == f"Bearer {api.token}"


async def test_deleting_a_credential_a_workflow_uses_is_refused_with_the_workflow(
        sign_in, server: LiveServer, tenant: TenantFixture, make_workflow) -> None:
    """Deleting a credential that a workflow's HTTP node uses is refused, and the refusal lists that
    workflow; the credential stays."""
    cid = await make_credential(server, tenant, "In use", "tok-in-use")
    wf = await make_workflow(manual_then_request("https://api.example.com/x", {"credential": cid}), name="Uses it")
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/settings/credentials")
    await page.get_by_test_id("credential-delete-In use").click()
    await page.get_by_test_id("credential-delete-confirm-In use").click()
    used = page.get_by_test_id("credential-used-by")
    await used.wait_for()
    assert wf["name"] in await used.text_content()
    assert (await page.get_by_test_id("credentials-error").get_attribute("data-status")) == "409"
    assert await page.get_by_test_id("credential-In use").is_visible()


async def test_a_viewer_sees_the_names_and_no_action(sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """A viewer's credentials screen lists the names, with no form, no edit, test or delete."""
    await make_credential(server, tenant, "Visible name", "tok-viewer")
    page = await sign_in(tenant.viewer)
    await page.goto(server.url + "/settings/credentials")
    await page.get_by_test_id("credential-Visible name").wait_for()
    assert await page.get_by_test_id("credentials-readonly").is_visible()
    for absent in ("credential-new", "credential-edit-Visible name", "credential-delete-Visible name",
                   "credential-test-Visible name"):
        assert await page.get_by_test_id(absent).count() == 0, absent
