"""get_scoped and find_scoped: a tenant's row by id, and 404 (or None) for everything else; no
module writes that lookup by hand."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backend.db.models import new_id
from backend.db.scoped import find_member, find_scoped, get_scoped
from backend.email.models import EmailTemplate
from backend.errors import NotFound


async def test_own_row_is_found_and_others_are_not_found(db, tenant_a, tenant_b):
    """The owner's id returns the row; another tenant's id, an unknown id and a non-id all raise NotFound."""
    row_id = new_id()
    async with db.sessionmaker() as s, s.begin():
        s.add(EmailTemplate(id=row_id, tenant_id=tenant_a.id, name="hello"))
    async with db.sessionmaker() as s:
        assert (await get_scoped(s, EmailTemplate, tenant_a.id, row_id, "email template")).name == "hello"
        for tenant_id, other_id in ((tenant_b.id, row_id), (tenant_a.id, "0" * 32), (tenant_a.id, "not an id")):
            with pytest.raises(NotFound, match="no email template"):
                await get_scoped(s, EmailTemplate, tenant_id, other_id, "email template")


async def test_extra_conditions_and_a_lock_go_through_the_same_lookup(db, tenant_a, tenant_b):
    """find_scoped with a condition: the row only when it also holds; locked or not, never another tenant's."""
    row_id = new_id()
    async with db.sessionmaker() as s, s.begin():
        s.add(EmailTemplate(id=row_id, tenant_id=tenant_a.id, name="hello"))
    async with db.sessionmaker() as s, s.begin():
        assert (await find_scoped(s, EmailTemplate, tenant_a.id, row_id, EmailTemplate.name == "hello")).id == row_id
        assert await find_scoped(s, EmailTemplate, tenant_a.id, row_id, EmailTemplate.name == "other") is None
        assert (await find_scoped(s, EmailTemplate, tenant_a.id, row_id, for_update=True)).id == row_id
        assert await find_scoped(s, EmailTemplate, tenant_b.id, row_id, for_update=True) is None
        assert await find_scoped(s, EmailTemplate, tenant_a.id, None) is None


async def test_a_member_is_found_by_user_id_in_its_own_workspace_only(db, tenant_a, tenant_b):
    """find_member: the editor's membership of their workspace; none in another, none for a non-id."""
    async with db.sessionmaker() as s:
        assert (await find_member(s, tenant_a.id, tenant_a.editor.user_id)).role == "editor"
        assert await find_member(s, tenant_b.id, tenant_a.editor.user_id) is None
        assert await find_member(s, tenant_a.id, "not an id") is None


ROOT = Path(__file__).resolve().parents[3]


def _key_compare(node: ast.expr) -> tuple[str, str] | None:
    """(model, column) of `Model.column == value`."""
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
            and isinstance(node.left, ast.Attribute) and isinstance(node.left.value, ast.Name)):
        return node.left.value.id, node.left.attr
    return None


def hand_written_lookups(source: str) -> list[int]:
    """Lines that read a row by id (or a member by user id) filtering the tenant by hand: a
    `select(Model).where(Model.id == ..., Model.tenant_id == ...)`, or a row fetched and then
    compared with the tenant (`row is None or row.tenant_id != tenant_id`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "where"
                and isinstance(node.func.value, ast.Call) and node.func.value.args
                and isinstance(node.func.value.args[0], ast.Name)):   # select(Model): whole rows
            keys = {k for k in map(_key_compare, node.args) if k}
            tenants = {m for m, col in keys if col == "tenant_id"}
            if any(m in tenants and (col == "id" or (m, col) == ("Membership", "user_id")) for m, col in keys):
                found.append(node.lineno)
        if isinstance(node, ast.BoolOp):
            nulls = {v.left.id for v in node.values if isinstance(v, ast.Compare) and isinstance(v.left, ast.Name)
                     and isinstance(v.ops[0], (ast.Is, ast.IsNot))}
            if any(isinstance(v, ast.Compare) and isinstance(v.left, ast.Attribute) and v.left.attr == "tenant_id"
                   and isinstance(v.left.value, ast.Name) and v.left.value.id in nulls for v in node.values):
                found.append(node.lineno)
    return found


def test_no_module_filters_a_row_by_id_and_tenant_by_hand():
    """Every row read by id goes through find_scoped/get_scoped (members by user id: find_member)."""
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "backend").rglob("*.py"))
                 if path.name != "scoped.py" for line in hand_written_lookups(path.read_text())]
    assert offenders == []


def test_the_rule_sees_both_hand_written_shapes():
    """The check reports a select by id and tenant, and a fetched row compared with the tenant (it is not vacuous)."""
    assert hand_written_lookups("q = select(Run).where(Run.id == run_id, Run.tenant_id == p.tenant_id)") == [1]
    assert hand_written_lookups("x = select(Membership).where(Membership.tenant_id == t, Membership.user_id == u)") == [1]
    assert hand_written_lookups("bad = row is None or row.tenant_id != tenant_id") == [1]
    assert hand_written_lookups("rows = select(Run).where(Run.tenant_id == t, Run.status == 'waiting')") == []
