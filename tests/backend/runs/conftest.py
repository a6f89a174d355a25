"""The runs API tests use the in-process engine; test_prefect_runs.py covers the Prefect path."""

import pytest

from backend.settings import Settings
from tests.live_server import serving


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)


@pytest.fixture
async def live_server(app):
    """The app served by uvicorn on a loopback port, in this event loop: WebSocket tests
    talk to it with a real client, as a browser would."""
    async with serving(app) as address:
        yield address
