import pytest

from backend.settings import Settings


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    # Runs here use the in-process engine (the Prefect path is covered by tests/backend/runs).
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)
