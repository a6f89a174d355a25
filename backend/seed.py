"""`seed_demo`: a demo tenant, user, API token and sample workflow (idempotent).

Re-running keeps the tenant, user and workflow, and replaces the "demo-cli" token with a
fresh one (tokens are stored hashed, so the old one cannot be shown again)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from backend.auth import services as auth
from backend.db.models import ApiToken, Tenant, Workflow
from backend.db.session import Database
from backend.db.scoped import find_member

DEMO_EMAIL = "demo@maily.local"
DEMO_PASSWORD = "demo"
DEMO_TOKEN_NAME = "demo-cli"
WELCOME_NAME = "Welcome: fetch and branch"


def welcome_graph() -> dict[str, Any]:
    def node(id_: str, type_: str, x: int, y: int, label: str, config: dict[str, Any]) -> dict[str, Any]:
        return {"id": id_, "type": type_, "type_version": 1, "position": {"x": x, "y": y}, "label": label,
                "config": config}

    def edge(id_: str, source: str, target: str, source_port: str = "output") -> dict[str, Any]:
        return {"id": id_, "source": source, "source_port": source_port, "target": target, "target_port": "input"}

    return {
        "schema_version": 1,
        "name": WELCOME_NAME,
        "nodes": [
            node("start", "trigger.manual", 0, 0, "Start", {"sample": {"customer": "Ada", "total": 150}}),
            node("order", "data.set", 240, 0, "Order",
                 {"values": {"customer": "{{ trigger.customer | default('Ada') }}", "total": "{{ trigger.total | default(150) }}"}}),
            node("big", "logic.if", 480, 0, "Big order?", {"condition": "{{ input.total > 100 }}"}),
            node("vip", "data.set", 720, -100, "VIP", {"values": {"tier": "vip"}, "keep_input": True}),
            node("regular", "data.set", 720, 100, "Regular", {"values": {"tier": "regular"}, "keep_input": True}),
            node("done", "logic.merge", 960, 0, "Done", {"mode": "first"}),
        ],
        "edges": [
            edge("e1", "start", "order"),
            edge("e2", "order", "big"),
            edge("e3", "big", "vip", "true"),
            edge("e4", "big", "regular", "false"),
            edge("e5", "vip", "done"),
            edge("e6", "regular", "done"),
        ],
    }


async def seed_demo(db: Database) -> dict[str, str]:
    async with db.sessionmaker() as s, s.begin():
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "demo"))
        if tenant is None:
            tenant = await auth.create_tenant(s, "Demo", "demo", tier="free")
        user = await auth.user_by_email(s, DEMO_EMAIL)
        if user is None:
            user = await auth.create_user(s, DEMO_EMAIL, DEMO_PASSWORD, name="Demo User")
        user.is_admin = True   # the demo instance's administrator (sets workspace tiers)
        member = await find_member(s, tenant.id, user.id)
        if member is None:
            await auth.add_member(s, tenant.id, user.id, "owner")
        await s.execute(delete(ApiToken).where(ApiToken.tenant_id == tenant.id, ApiToken.user_id == user.id,
                                               ApiToken.name == DEMO_TOKEN_NAME))
        _, token = await auth.create_api_token(s, tenant.id, user.id, DEMO_TOKEN_NAME)
        wf = await s.scalar(select(Workflow).where(Workflow.tenant_id == tenant.id, Workflow.name == WELCOME_NAME,
                                                   Workflow.deleted_at.is_(None)))
        if wf is None:
            wf = Workflow(tenant_id=tenant.id, name=WELCOME_NAME, created_by=user.id, graph=welcome_graph(),
                          description="A manual trigger, a computed field and an if/else branch joined again.")
            s.add(wf)
            await s.flush()
        return {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "token": token, "tenant_id": tenant.id,
                "workflow_id": wf.id}
