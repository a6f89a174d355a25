"""moto's S3 in server mode on a loopback port: a real S3 API over HTTP, in a thread of the test process."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from moto.server import ThreadedMotoServer

from tests.live_server import free_port


@contextmanager
def moto_s3() -> Iterator[str]:
    """The server's base URL ("http://127.0.0.1:<port>") while the block runs."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
