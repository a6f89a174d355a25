"""Property: ai.classify's output is always one of the configured categories, whatever the
provider answers (any text, empty, JSON, another category's near-miss) and whatever the input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nodes.ai.gateway import AIConfig, AIGateway
from nodes.ai.store import Credential, MemoryStore
from nodes.registry import default_registry
from nodes.sdk import NodeContext
from nodes.services import NodeServices

CATEGORIES = ["billing", "support", "sales lead", "other"]


class NoCache:
    async def get(self, key):
        return None

    async def set(self, key, value, ttl_s):
        return None


answers = st.one_of(st.text(max_size=200), st.sampled_from(CATEGORIES).map(str.upper),
                    st.sampled_from(["Sales Lead!", "billing and support", "'other'", "{\"category\": \"x\"}", ""]))


@settings(max_examples=60, deadline=None)
@given(answer=answers, text=st.text(max_size=300))
async def test_classify_output_is_always_a_configured_category(fake, answer, text):
    fake.script(answer=answer)
    gw = AIGateway(AIConfig(tier_models={"premium": [{"provider": "openai", "model": "m"}]}, retries=0,
                            allowed_hosts=frozenset({"127.0.0.1"})),
                   MemoryStore(tiers={"t": "premium"}, credentials={("*", "openai"): Credential("k", fake.openai_url)}),
                   NoCache())
    nt = default_registry().latest("ai.classify")
    config = nt.config_model.model_validate({"text": text, "categories": CATEGORIES,
                                             "keywords": {"billing": ["invoice"], "support": ["help"]}})
    try:
        out = (await nt.execute(NodeContext(run_id="r", node_id="n", tenant_id="t", services=NodeServices.in_memory(ai=gw)),
                                config, {}))["output"]
    finally:
        await gw.aclose()
    assert out["result"]["category"] in CATEGORIES
    if out["ai"]["decision"] == "ai":
        assert answer.strip(), "an empty answer must never be accepted"
