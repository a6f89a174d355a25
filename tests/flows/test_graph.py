"""The graph document model and its published JSON Schema."""

import pytest
from pydantic import ValidationError

from flows.graph import SCHEMA_VERSION, GraphDocument, graph_json_schema


def test_a_minimal_document_parses_with_defaults():
    doc = GraphDocument.model_validate({"nodes": [{"id": "start", "type": "trigger.manual"}]})
    assert doc.schema_version == SCHEMA_VERSION
    assert doc.nodes[0].type_version == 1 and doc.nodes[0].config == {}


def test_unknown_top_level_fields_are_refused():
    with pytest.raises(ValidationError):
        GraphDocument.model_validate({"nodes": [], "edges": [], "extra": 1})


def test_node_ids_must_be_usable_in_expressions():
    with pytest.raises(ValidationError):
        GraphDocument.model_validate({"nodes": [{"id": "has space", "type": "data.set"}]})


def test_the_published_schema_names_draft_2020_12_and_the_version():
    schema = graph_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert f"v{SCHEMA_VERSION}" in schema["$id"]
    assert set(schema["properties"]) >= {"schema_version", "name", "nodes", "edges"}
