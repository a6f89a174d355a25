"""The credentials tests' app has one extra node type with a credential field (bearer_node.py)."""

from __future__ import annotations

import pytest

from backend.app import create_app
from nodes.registry import NodeRegistry, default_registry
from tests.backend.credentials.bearer_node import node_type


@pytest.fixture
def app(settings):
    settings.http_allowed_hosts = "127.0.0.1"   # the test endpoint reaches loopback servers, as http tests do
    application = create_app(settings)
    # A registry of its own: the shared default one stays as every other test knows it.
    application.state.registry = NodeRegistry([*default_registry().all(), node_type()])
    return application
