"""validate_graph: one test per problem code, all problems at once, and properties."""

import json

import pytest
from hypothesis import given

from flows.graph import MAX_EDGES, MAX_NESTING, MAX_NODES, MAX_STRING, GraphDocument
from flows.validate import Problem, ValidationResult, pointer, topological_order, validate_graph
from tests.strategies import (
    FOR_EACH,
    IF,
    MERGE,
    NESTED,
    NUMBER,
    PASS,
    REGISTRY,
    STRING,
    TRIGGER,
    chain,
    cyclic_graphs,
    dags,
    document,
    edge,
    json_values,
    mutated_documents,
    node,
    nodes_on_cycles,
    reachability,
)


def validate(raw) -> ValidationResult:
    return validate_graph(raw, REGISTRY)


def only(raw, code) -> Problem:
    found = [p for p in validate(raw).problems if p.code == code]
    assert len(found) == 1, validate(raw).problems
    return found[0]


def codes(raw) -> set[str]:
    return {p.code for p in validate(raw).problems}


def start_then(*nodes, edges=()):
    """A trigger "t" followed by nodes; edges as given."""
    return document([node("t", TRIGGER), *nodes], list(edges))


# ------------------------------------------------------------------ valid documents

def test_a_valid_chain_has_no_problems_and_a_document():
    result = validate(chain(5))
    assert result.ok and result.problems == [] and result.errors == [] and result.warnings == []
    assert isinstance(result.document, GraphDocument)
    assert [n.id for n in result.document.nodes] == ["n0", "n1", "n2", "n3", "n4"]


def test_a_graph_document_validates_like_its_json():
    doc = GraphDocument.model_validate(chain(3))
    assert validate(doc).to_json() == validate(doc.model_dump(mode="json")).to_json()


def test_to_json_is_plain_json():
    result = validate(document([node("a", "nope")]))
    data = json.loads(json.dumps(result.to_json()))
    assert data["ok"] is False and data["error_count"] == 2
    assert data["problems"][0] == {"code": "unknown_type", "severity": "error",
                                   "message": "unknown node type 'nope'", "pointer": "/nodes/0/type",
                                   "node_id": "a", "edge_id": None, "node_ids": []}


def test_pointers_escape_slash_and_tilde():
    assert pointer("nodes", 3, "config", "a/b~c") == "/nodes/3/config/a~1b~0c"


# ------------------------------------------------------------------ limit

def test_limit_too_many_nodes_and_edges():
    raw = document([{"id": "x"}] * (MAX_NODES + 1), [{}] * (MAX_EDGES + 1))
    result = validate(raw)
    assert [(p.code, p.pointer) for p in result.problems] == [("limit", "/nodes"), ("limit", "/edges")]
    assert result.document is None


def test_limit_nesting_points_at_the_first_level_too_deep():
    deep: dict = {}
    cursor = deep
    for _ in range(100_000):  # built iteratively; validation must not recurse either
        cursor["a"] = {}
        cursor = cursor["a"]
    problem = only(start_then(node("n", PASS, config={"tags": deep})), "limit")
    # document, nodes, node, config, tags = 4 levels before the first "a"
    assert problem.pointer == "/nodes/1/config/tags" + "/a" * (MAX_NESTING - 4)


def test_limit_string_length():
    problem = only(start_then(node("n", PASS, label="x" * (MAX_STRING + 1))), "limit")
    assert problem.pointer == "/nodes/1/label"


def test_limit_document_size():
    big = [node(f"n{i}", PASS, config={"url": "https://" + "x" * (MAX_STRING - 10)}) for i in range(60)]
    problem = only(start_then(*big), "limit")
    assert problem.pointer == "" and "bytes" in problem.message


# ------------------------------------------------------------------ schema

@pytest.mark.parametrize("raw", [None, 3, "x", [], [{"nodes": []}], True])
def test_schema_not_an_object(raw):
    problem = only(raw, "schema")
    assert problem.pointer == ""


def test_schema_errors_point_into_each_broken_node_and_edge_and_the_rest_is_still_checked():
    raw = document(
        [node("t", TRIGGER), node("has space", PASS), node("ok", "nope"), {"type": PASS}, "not a node"],
        [edge("e1", "t", "ok"), {"id": "e2", "source": "t"}, edge("e3", "has space", "ghost")],
        extra=1,
    )
    result = validate(raw)
    schema = {(p.pointer, p.node_id, p.edge_id) for p in result.problems if p.code == "schema"}
    assert schema == {
        ("/extra", None, None),
        ("/nodes/1/id", "has space", None),
        ("/nodes/3/id", None, None),
        ("/nodes/4", None, None),
        ("/edges/1/target", None, "e2"),
    }
    # Still reported: the unknown type of another node, and an edge to a missing node,
    # but not the edge to the schema-broken node "has space" (it is named in the document).
    assert only(raw, "unknown_type").pointer == "/nodes/2/type"
    assert only(raw, "dangling_edge").pointer == "/edges/2/target"
    assert result.document is None


def test_schema_nodes_must_be_a_list():
    assert only({"nodes": {"a": 1}}, "schema").pointer == "/nodes"


# ------------------------------------------------------------------ ids, types, config

def test_duplicate_node_and_edge_ids():
    raw = start_then(node("a"), node("a"), edges=[edge("e", "t", "a"), edge("e", "t", "a")])
    found = [(p.pointer, p.node_id, p.edge_id) for p in validate(raw).problems if p.code == "duplicate_id"]
    assert found == [("/nodes/2/id", "a", None), ("/edges/1/id", None, "e")]


def test_unknown_type():
    problem = only(start_then(node("x", "no.such")), "unknown_type")
    assert (problem.pointer, problem.node_id) == ("/nodes/1/type", "x")


def test_unknown_version_lists_the_known_ones():
    problem = only(start_then(node("x", PASS, type_version=7)), "unknown_version")
    assert (problem.pointer, problem.node_id) == ("/nodes/1/type_version", "x")
    assert "known versions: 1, 2" in problem.message


def test_config_errors_point_at_the_field():
    raw = start_then(
        node("a", PASS, config={"count": -1, "bogus": 1}),
        node("b", NESTED, config={"inner": {"size": "big"}}),
        edges=[edge("e1", "t", "a"), edge("e2", "a", "b")],
    )
    found = {(p.pointer, p.node_id) for p in validate(raw).problems if p.code == "config"}
    assert found == {("/nodes/1/config/count", "a"), ("/nodes/1/config/bogus", "a"), ("/nodes/2/config/inner/size", "b")}


@pytest.mark.parametrize("config", [
    {"count": "{{ trigger.count }}"},          # whole expression, int field
    {"count": "  {{ nodes.t.output.n }} "},    # surrounding blanks are fine
    {"tags": "{{ trigger.tags }}"},            # whole expression, list field
    {"mode": "{{ trigger.mode }}"},            # whole expression, Literal field
    {"url": "{{ trigger.url }}"},              # whole expression, pattern-checked string
    {"url": "{{ trigger.host }}/path"},        # a string containing one: pattern checked at run time
    {"tags": ["a", "{{ trigger.tag }}"]},
])
def test_config_accepts_expressions(config):
    assert validate(start_then(node("a", PASS, config=config), edges=[edge("e", "t", "a")])).ok


def test_config_expression_in_a_nested_model_and_non_string_field_rules():
    ok = start_then(node("a", NESTED, config={"inner": "{{ trigger.inner }}"}), edges=[edge("e", "t", "a")])
    assert validate(ok).ok
    # Two expressions, or text around one, still render to a string: an int field refuses it.
    for bad in ("{{ a }}{{ b }}", "1{{ trigger.n }}"):
        raw = start_then(node("a", PASS, config={"count": bad}), edges=[edge("e", "t", "a")])
        assert only(raw, "config").pointer == "/nodes/1/config/count"


# ------------------------------------------------------------------ edges and ports

def test_dangling_edge_source_and_target():
    raw = start_then(node("a"), edges=[edge("e1", "t", "a"), edge("e2", "ghost", "a"), edge("e3", "a", "void")])
    found = [(p.pointer, p.edge_id) for p in validate(raw).problems if p.code == "dangling_edge"]
    assert found == [("/edges/1/source", "e2"), ("/edges/2/target", "e3")]


def test_unknown_ports_name_the_ports_that_exist():
    raw = start_then(node("i", IF), node("a"), edges=[edge("e1", "t", "i"), edge("e2", "i", "a", "output", "in")])
    found = [(p.pointer, p.node_id, p.edge_id) for p in validate(raw).problems if p.code == "unknown_port"]
    assert found == [("/edges/1/source_port", "i", "e2"), ("/edges/1/target_port", "a", "e2")]
    assert "outputs: true, false" in validate(raw).problems[0].message


def test_port_type_mismatch_names_both_types():
    raw = start_then(node("num", NUMBER), node("str", STRING), node("any", PASS),
                     edges=[edge("e1", "t", "num"), edge("e2", "num", "str"), edge("e3", "num", "any")])
    problem = only(raw, "port_type")
    assert (problem.pointer, problem.node_id, problem.edge_id) == ("/edges/1", "str", "e2")
    assert "number" in problem.message and "string" in problem.message


def test_multiple_inputs_only_on_ports_without_multiple():
    raw = start_then(node("a"), node("b"), node("m", MERGE),
                     edges=[edge("e1", "t", "a"), edge("e2", "t", "b"), edge("e3", "a", "b"),
                            edge("e4", "a", "m"), edge("e5", "b", "m")])
    problem = only(raw, "multiple_inputs")
    assert (problem.pointer, problem.node_id, problem.edge_id) == ("/edges/2/target_port", "b", "e3")


def test_trigger_input():
    raw = start_then(node("a"), edges=[edge("e1", "t", "a"), edge("e2", "a", "t")])
    problem = only(raw, "trigger_input")
    assert (problem.pointer, problem.node_id, problem.edge_id) == ("/edges/1/target", "t", "e2")
    assert "unknown_port" not in codes(raw)


# ------------------------------------------------------------------ graph shape

def test_cycle_names_its_nodes():
    raw = start_then(node("a", MERGE), node("b"), node("c"), node("d"),
                     edges=[edge("e1", "t", "a"), edge("e2", "a", "b"), edge("e3", "b", "c"),
                            edge("e4", "c", "a"), edge("e5", "c", "d")])
    problem = only(raw, "cycle")
    assert problem.node_ids == ("a", "b", "c")
    assert (problem.pointer, problem.node_id) == ("/nodes/1", "a")
    assert "a → b → c → a" in problem.message


def test_each_cycle_is_reported_and_a_self_loop_is_one():
    raw = start_then(node("a", MERGE), node("b"), node("s", MERGE),
                     edges=[edge("e1", "t", "a"), edge("e2", "a", "b"), edge("e3", "b", "a"),
                            edge("e4", "t", "s"), edge("e5", "s", "s")])
    found = sorted(p.node_ids for p in validate(raw).problems if p.code == "cycle")
    assert found == [("a", "b"), ("s",)]


def test_a_long_cycle_does_not_recurse():
    raw = chain(5000)
    raw["nodes"][1]["type"] = MERGE
    raw["nodes"][1]["config"] = {}
    raw["edges"].append(edge("back", "n4999", "n1"))
    problem = only(raw, "cycle")
    assert len(problem.node_ids) == 4999


def test_no_trigger():
    problem = only(document([node("a")]), "no_trigger")
    assert (problem.pointer, problem.node_id) == ("/nodes", None)
    assert "unreachable" not in codes(document([node("a")]))


def test_a_schema_broken_trigger_is_not_reported_missing():
    raw = document([node("t", TRIGGER, position="left"), node("a")], [edge("e", "t", "a")])
    assert codes(raw) == {"schema"}


def test_unreachable_is_a_warning_per_node():
    raw = start_then(node("a"), node("b"), node("c"), edges=[edge("e1", "t", "a"), edge("e2", "b", "c")])
    result = validate(raw)
    assert result.ok
    assert [(p.code, p.severity, p.pointer, p.node_id) for p in result.warnings] == [
        ("unreachable", "warning", "/nodes/2", "b"), ("unreachable", "warning", "/nodes/3", "c")]


def test_unknown_reference():
    raw = start_then(
        node("a", PASS, config={"url": "https://nodes.example.com/{{ nodes.t.output }}/{{ nodes.ghost.output.x }}",
                                 "tags": ["{{ nodes.a.output }}", "{{ run.nodes.x }}"]}),
        edges=[edge("e1", "t", "a")],
    )
    problem = only(raw, "unknown_reference")
    assert (problem.pointer, problem.node_id) == ("/nodes/1/config/url", "a")
    assert "nodes.ghost" in problem.message


def test_for_each_body_fed_from_outside_is_an_error():
    raw = start_then(
        node("fe", FOR_EACH), node("body", MERGE), node("after", MERGE),
        edges=[edge("e1", "t", "fe"), edge("e2", "fe", "body", "item"), edge("e3", "t", "body"),
               edge("e4", "fe", "after", "results"), edge("e5", "body", "after")],
    )
    found = [(p.pointer, p.node_id, p.edge_id) for p in validate(raw).problems if p.code == "for_each_scope"]
    assert found == [("/edges/2", "body", "e3"), ("/edges/3", "after", "e4")]


def test_a_for_each_with_a_clean_body_is_valid():
    raw = start_then(
        node("fe", FOR_EACH), node("body"), node("body2"), node("after"),
        edges=[edge("e1", "t", "fe"), edge("e2", "fe", "body", "item"), edge("e3", "body", "body2"),
               edge("e4", "fe", "after", "results")],
    )
    assert validate(raw).problems == []


# ------------------------------------------------------------------ all at once

def test_several_problems_are_reported_together():
    raw = document(
        [node("a", "no.such"), node("b", PASS, config={"count": "many", "url": "{{ nodes.zz.x }}"}),
         node("c", PASS), node("c", PASS), node("d", NUMBER), node("e", STRING)],
        [edge("e1", "b", "c"), edge("e2", "c", "b"), edge("e3", "c", "nowhere"), edge("e4", "d", "e")],
    )
    assert codes(raw) == {"unknown_type", "config", "unknown_reference", "duplicate_id", "cycle",
                          "dangling_edge", "port_type", "no_trigger"}


# ------------------------------------------------------------------ topological order

def test_topological_order_is_deterministic_by_document_order():
    doc = GraphDocument.model_validate(document(
        [node("c"), node("a", TRIGGER), node("b"), node("d", MERGE)],
        [edge("e1", "a", "d"), edge("e2", "c", "d"), edge("e3", "b", "c")],
    ))
    assert topological_order(doc) == ["a", "b", "c", "d"]


def test_topological_order_refuses_a_cycle():
    doc = GraphDocument.model_validate(document([node("a"), node("b")], [edge("e1", "a", "b"), edge("e2", "b", "a")]))
    with pytest.raises(ValueError):
        topological_order(doc)


# ------------------------------------------------------------------ properties

def _no_internal_failure(result: ValidationResult) -> None:
    # validate_graph turns its own bugs into a problem rather than raising; none may occur.
    assert not any("could not be validated" in p.message for p in result.problems)


@given(json_values)
def test_never_raises_on_arbitrary_json(raw):
    result = validate(raw)
    _no_internal_failure(result)
    json.dumps(result.to_json())
    if not isinstance(raw, dict):
        assert [p.code for p in result.problems] == ["schema"]


@given(mutated_documents())
def test_never_raises_on_mutated_documents(raw):
    result = validate(raw)
    _no_internal_failure(result)
    json.dumps(result.to_json())
    assert all(p.pointer == "" or p.pointer.startswith("/") for p in result.problems)


@given(cyclic_graphs())
def test_any_cycle_is_rejected_naming_exactly_the_nodes_on_cycles(raw):
    result = validate(raw)
    cycles = [p for p in result.problems if p.code == "cycle"]
    assert cycles and not result.ok and result.document is not None
    named = [n for p in cycles for n in p.node_ids]
    assert len(named) == len(set(named))
    assert set(named) == nodes_on_cycles(raw)
    reach = reachability(raw)
    for p in cycles:  # the nodes of one problem are all on cycles through each other
        assert all(b in reach[a] for a in p.node_ids for b in p.node_ids)


@given(dags())
def test_a_random_dag_is_valid(raw):
    result = validate(raw)
    assert result.problems == []
    order = topological_order(result.document)
    assert sorted(order) == sorted(n["id"] for n in raw["nodes"])
    at = {n: k for k, n in enumerate(order)}
    assert all(at[e["source"]] < at[e["target"]] for e in raw["edges"])


@given(dags())
def test_documents_round_trip(raw):
    dumped = GraphDocument.model_validate(raw).model_dump(mode="json")
    assert dumped == raw
    assert validate(dumped).to_json() == validate(raw).to_json()
    assert validate(raw).document.model_dump(mode="json") == raw


def test_sticky_notes_are_kept_in_the_validated_document():
    """Notes are not checked as nodes, but the document a publish stores must keep them."""
    raw = document([node("t", "test.trigger")], notes=[{"id": "n1", "text": "call Ada first"}])
    result = validate(raw)
    assert result.ok
    assert [n.text for n in result.document.notes] == ["call Ada first"]
