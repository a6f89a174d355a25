"""nodes/sdk.py is the plugin API: its public names are pinned, and services are typed."""

from __future__ import annotations

import pytest

import nodes.sdk as sdk
from nodes.ai.gateway import AIGateway
from nodes.email.mailer import Mailer
from nodes.sdk import NodeContext, NodeError
from nodes.services import NodeServices

PINNED = {
    "Category", "Clock", "NoSecrets", "Redactor", "ResolvedCredential", "credential_field", "resolve_credential", "NodeConfig", "NodeConfigError", "NodeContext", "NodeError", "NodeSpec",
    "NodeSuspended", "NodeTemporaryError", "NodeType", "ERROR_PORT", "ON_ERROR_VALUES", "OnError", "PORT_TYPES", "Port", "PortType", "SUSPEND_AFTER_S",
    "Secrets", "SystemClock", "new_correlation_id",
}


def test_the_sdk_exports_exactly_the_pinned_names():
    """Adding or removing a public name of the plugin API is a deliberate change of this test."""
    assert set(sdk.__all__) == PINNED
    assert all(hasattr(sdk, name) for name in sdk.__all__)


def test_a_context_built_without_services_names_the_missing_service():
    """A node asking a context built without services for one fails with a NodeError naming it."""
    with pytest.raises(NodeError, match="'mailer' service"):
        NodeContext(run_id="r", node_id="n").services.mailer


def test_in_memory_services_take_what_is_given_and_refuse_unknown_names():
    """NodeServices.in_memory fills what is not given and refuses a name it does not have."""
    mailer = Mailer()
    services = NodeServices.in_memory(mailer=mailer)
    assert services.mailer is mailer and isinstance(services.ai, AIGateway)
    with pytest.raises(TypeError, match="mailr"):
        NodeServices.in_memory(mailr=mailer)


def test_node_services_need_every_field():
    """Building NodeServices without one of its services is a TypeError, not a silent in-memory stand-in."""
    with pytest.raises(TypeError):
        NodeServices(ai=AIGateway(), mailer=Mailer())  # type: ignore[call-arg]
