"""The built-in catalogue: 36 node types whose specs and config schemas are well formed."""

import pytest

from nodes.registry import BUILTIN_MODULES, build_registry
from nodes.sdk import PORT_TYPES

TYPES = build_registry(with_plugins=False).all()


def test_every_builtin_module_registers_one_node_type():
    assert len(TYPES) == len(BUILTIN_MODULES) == 36


@pytest.mark.parametrize("node_type", TYPES, ids=lambda t: t.spec.type)
def test_spec_is_complete_and_ports_are_typed(node_type):
    spec = node_type.spec
    assert spec.title and spec.icon and spec.description and spec.type.startswith(spec.category + ".")
    for port in spec.inputs + spec.outputs:
        assert port.type in PORT_TYPES
    assert len({p.name for p in spec.outputs}) == len(spec.outputs)
    assert spec.trigger == (spec.inputs == ())


@pytest.mark.parametrize("node_type", TYPES, ids=lambda t: t.spec.type)
def test_config_schema_forbids_unknown_keys_and_raw_fields_exist(node_type):
    schema = node_type.config_schema()
    assert schema["additionalProperties"] is False
    for field in node_type.spec.raw_config_fields:
        assert field in schema["properties"]
