"""The node panel's API: an app whose registry has the engine tests' nodes and a side-effect node."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

from backend.app import create_app
from backend.settings import Settings
from nodes.sdk import NodeConfig, NodeSpec, NodeType, Port
from tests.backend.runs.test_controllers import create_workflow, wait_for_end as wait_ended  # noqa: F401  (re-exported)
from tests.flows import fakes

EFFECTS: list[tuple[str, str]] = []         # (run_id, node_id) of every side effect done


class EffectConfig(NodeConfig):
    say: str = Field(default="")


async def _effect(ctx, config, inputs):
    EFFECTS.append((ctx.run_id, ctx.node_id))
    return {"output": {"said": config.say, "node": ctx.node_id}}


EFFECT = NodeType(spec=NodeSpec(type="test.effect", version=1, title="Effect", category="util", icon="dot",
                                description="a side effect a repeat would repeat", inputs=(Port("input"),),
                                side_effects=True, side_effect_kind="unkeyed"),
                  config_model=EffectConfig, execute=_effect)


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)


@pytest.fixture
def app(settings):
    app = create_app(settings)
    reg = fakes.registry()
    reg.add(EFFECT)
    app.state.registry = reg
    return app


def effects_of(run_id: str) -> list[str]:
    return [nid for rid, nid in EFFECTS if rid == run_id]


async def run_draft(client, h, workflow_id: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await client.post(f"/api/workflows/{workflow_id}/runs", json={"input": payload or {}}, headers=h)
    assert r.status_code == 202, r.text
    return await wait_ended(client, h, r.json()["id"])


def node_runs(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["node_id"]: n for n in run["nodes"] if n["iteration"] is None}
