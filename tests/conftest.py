"""Suite-wide settings: hypothesis profiles (fast by default, `ci` with more examples)."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")


@pytest.fixture(scope="session")
async def prefect_api(tmp_path_factory):
    """One embedded Prefect server for the whole session (it takes 5-10 s to boot); apps
    created by tests find it through MAILY_PREFECT_SHARED_SERVER and reuse it."""
    from flows.prefect_server import PrefectApi

    api = PrefectApi(tmp_path_factory.mktemp("prefect"))
    await api.ready()
    yield api
    await api.stop()


# Under pytest-xdist (`make test` runs -n 2 --dist loadgroup) each group runs whole on one worker:
# the fault and production tests start real app, Prefect and worker processes and kill them, so
# they run one after another (never two clusters at once on a small machine); the browser tests
# share one Chromium, live server and database per worker. Without -n the marks do nothing.
XDIST_GROUPS = {"faults": "processes", "production": "processes", "e2e": "browser"}


def pytest_collection_modifyitems(config, items):
    tests_dir = os.path.dirname(__file__)
    for item in items:
        top = os.path.relpath(str(item.path), tests_dir).split(os.sep)[0]
        if top in XDIST_GROUPS:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUPS[top]))
