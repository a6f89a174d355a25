"""trigger.manual and trigger.webhook: payload out, schema and method checks."""

import pytest

from nodes.sdk import NodeConfigError
from nodes.trigger import manual, webhook


async def test_manual_trigger_outputs_the_payload(make_ctx):
    out = await manual.execute(make_ctx(), manual.Config(), {"payload": {"a": 1}})
    assert out == {"output": {"a": 1}}


async def test_manual_trigger_without_payload_outputs_empty_object(make_ctx):
    assert await manual.execute(make_ctx(), manual.Config(), {}) == {"output": {}}


async def test_manual_trigger_refuses_payload_not_matching_input_schema(make_ctx):
    config = manual.Config(input_schema={"type": "object", "required": ["email"],
                                         "properties": {"email": {"type": "string"}}})
    with pytest.raises(NodeConfigError, match="email") as err:
        await manual.execute(make_ctx(), config, {"payload": {"name": "x"}})
    assert err.value.pointer.startswith("/inputs/payload")


def test_triggers_have_no_inputs_and_are_triggers():
    assert manual.SPEC.trigger and manual.SPEC.inputs == ()
    assert webhook.SPEC.trigger and webhook.SPEC.inputs == ()


async def test_webhook_outputs_the_request_payload(make_ctx):
    payload = {"method": "POST", "headers": {}, "query": {}, "body": {"id": 3}}
    assert await webhook.execute(make_ctx(), webhook.Config(), {"payload": payload}) == {"output": payload}


async def test_webhook_refuses_a_method_not_allowed(make_ctx):
    with pytest.raises(NodeConfigError, match="GET") as err:
        await webhook.execute(make_ctx(), webhook.Config(methods=["POST"]), {"payload": {"method": "GET"}})
    assert err.value.pointer == "/methods"


async def test_webhook_checks_the_body_schema(make_ctx):
    config = webhook.Config(body_schema={"type": "object", "required": ["id"]})
    with pytest.raises(NodeConfigError):
        await webhook.execute(make_ctx(), config, {"payload": {"method": "POST", "body": {}}})
