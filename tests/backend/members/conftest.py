"""The live uvicorn server fixtures of the co-editing tests (real WebSockets), for the socket tests here."""

from tests.backend.collab.conftest import http, live_server, workflow  # noqa: F401 - fixtures
