"""Third-party node packages register through the `maily.nodes` entry point group."""

from __future__ import annotations

import logging
import sys
import textwrap

import pytest

from nodes.registry import build_registry

PLUGIN = textwrap.dedent('''
    from nodes.sdk import NodeConfig, NodeSpec

    class Config(NodeConfig):
        shout: bool = False

    SPEC = NodeSpec(type="acme.hello", version=1, title="Hello", category="data", icon="smile",
                    description="says hello")

    async def execute(ctx, config, inputs):
        return {"output": "HELLO" if config.shout else "hello"}
''')


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A real installed distribution (a dist-info with entry_points.txt) on sys.path."""
    (tmp_path / "acme_nodes.py").write_text(PLUGIN)
    (tmp_path / "broken_nodes.py").write_text("raise ImportError('missing dependency')\n")
    info = tmp_path / "acme_nodes-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-nodes\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[maily.nodes]\nhello = acme_nodes\nbroken = broken_nodes\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("acme_nodes", None)


def test_an_installed_plugin_is_listed_like_a_builtin(installed_plugin):
    registry = build_registry()
    hello = registry.get("acme.hello", 1)
    assert hello is not None and hello.source == "acme-nodes"
    assert registry.get("data.set", 1).source == "builtin"


def test_a_broken_plugin_is_logged_and_left_out(installed_plugin, caplog):
    with caplog.at_level(logging.ERROR):
        registry = build_registry()
    assert registry.get("acme.hello", 1) is not None
    assert any("broken_nodes" in r.getMessage() for r in caplog.records)


def test_registering_one_type_twice_is_refused(installed_plugin):
    registry = build_registry()
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(registry.get("acme.hello", 1))
