"""logic.switch: first or every matching case, else default."""

from nodes.logic import switch

CASES = [{"value": "new"}, {"value": "paid"}, {"op": "contains", "value": "pa"}]


async def test_first_matching_case_fires_its_port(make_ctx):
    config = switch.Config(value="paid", cases=CASES)
    assert await switch.execute(make_ctx(), config, {"input": 1}) == {"case_2": 1}


async def test_match_all_fires_every_matching_case(make_ctx):
    config = switch.Config(value="paid", cases=CASES, match="all")
    assert await switch.execute(make_ctx(), config, {"input": 1}) == {"case_2": 1, "case_3": 1}


async def test_no_match_fires_default(make_ctx):
    config = switch.Config(value="refunded", cases=CASES)
    assert await switch.execute(make_ctx(), config, {"input": 1}) == {"default": 1}


def test_spec_has_eight_case_ports_and_default_and_config_caps_cases():
    names = [p.name for p in switch.SPEC.outputs]
    assert names == [f"case_{n}" for n in range(1, 9)] + ["default"]
    try:
        switch.Config(value=1, cases=[{"value": n} for n in range(9)])
    except Exception:
        return
    raise AssertionError("a ninth case must be refused")
