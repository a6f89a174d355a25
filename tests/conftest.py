"""Suite-wide settings: hypothesis profiles (fast by default, `ci` with more examples)."""

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")


def embedded_data_dir() -> Path:
    """A data dir for an embedded PostgreSQL, outside pytest's tmp_path: as root the server runs
    as another user that must reach it, and every pytest session started on the machine makes
    /tmp/pytest-of-root private again (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix="maily-embedded-"))


@pytest.fixture(scope="session")
async def prefect_api():
    """One embedded Prefect server for the whole session (it takes 5-10 s to boot); apps
    created by tests find it through MAILY_PREFECT_SHARED_SERVER and reuse it."""
    from backend.db.embedded import create_database, embedded_database_url, prefect_database_url, stop_embedded
    from flows.prefect_server import PrefectApi

    # its state on an embedded PostgreSQL of its own, as `maily serve` keeps it by default
    data_dir = embedded_data_dir()
    url = await asyncio.to_thread(embedded_database_url, data_dir)
    api = PrefectApi(data_dir, database_url=prefect_database_url(url), prepare_database=create_database)
    await api.ready()

    async def kept_running() -> None:
        """A RunManager shut down by a test stops its PrefectApi: this one serves the whole session."""

    api.stop = kept_running   # type: ignore[method-assign]
    yield api
    await PrefectApi.stop(api)
    await asyncio.to_thread(stop_embedded, data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


# Under pytest-xdist (`make test` runs -n 2 --dist loadgroup) each group runs whole on one worker:
# the fault and production tests start real app, Prefect and worker processes and kill them, so
# they run one after another (never two clusters at once on a small machine); the browser tests
# share one Chromium, live server and database per worker. Without -n the marks do nothing.
XDIST_GROUPS = {"faults": "processes", "production": "processes", "replicas": "processes", "e2e": "browser"}


def pytest_collection_modifyitems(config, items):
    tests_dir = os.path.dirname(__file__)
    for item in items:
        top = os.path.relpath(str(item.path), tests_dir).split(os.sep)[0]
        if top in XDIST_GROUPS:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUPS[top]))
