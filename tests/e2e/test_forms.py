"""Config forms in Chromium: edits that come faster than the form re-renders."""

from __future__ import annotations

from tests.backend.conftest import TenantFixture
from tests.e2e.test_editor import by_id, eventually, open_canvas, rest_graph

# Set an input's text the way typing does (React sees an `input` event), for several inputs in one task:
# nothing re-renders in between, as when a key is renamed and its value typed within one frame.
TYPE_IN_ONE_FRAME = """edits => {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set
  for (const [testId, text] of edits) {
    const el = document.querySelector(`[data-testid="${testId}"]`)
    setter.call(el, text)
    el.dispatchEvent(new Event('input', { bubbles: true }))
  }
}"""


async def test_a_key_renamed_and_its_value_typed_in_the_same_frame_both_stay(sign_in, server, tenant: TenantFixture,
                                                                             make_workflow) -> None:
    """A map field (data.set's values) keeps both a key rename and a value typed before the form re-rendered:
    the second write starts from the map as the document holds it, not from the form's older copy."""
    wf = await make_workflow({"schema_version": 1, "name": "map", "edges": [], "nodes": [
        {"id": "put", "type": "data.set", "type_version": 1, "label": "Put", "position": {"x": 0, "y": 0},
         "config": {"values": {"a": "1", "keep": "x"}}}]})
    page = await sign_in(tenant.editor)
    await open_canvas(page, server, wf["id"])
    await page.get_by_test_id("node-put").click()
    first = await page.get_by_test_id("config-values.key.0").input_value()  # rows follow the document's key order
    other = ({"a", "keep"} - {first}).pop()
    original = {"a": "1", "keep": "x"}

    await page.evaluate(TYPE_IN_ONE_FRAME, [["config-values.key.0", "b"], ["config-values.value.0", "two"]])

    async def values() -> dict | None:
        v = by_id(await rest_graph(server, tenant.editor, wf["id"]))["put"]["config"]["values"]
        return v if v != {"a": "1", "keep": "x"} else None
    got = await eventually(values, "the edit reached the server")
    assert got == {"b": "two", other: original[other]}
    # and the form shows what the document holds
    await page.get_by_test_id("side-panel-close").click()
    await page.get_by_test_id("node-put").click()
    assert await page.get_by_test_id("config-values.key.0").input_value() == "b"
    assert await page.get_by_test_id("config-values.value.0").input_value() == "two"
