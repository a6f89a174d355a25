"""moto's S3 in server mode on a loopback port: a real S3 API over HTTP, in a thread of the test process."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

import boto3
import httpx
from moto.server import ThreadedMotoServer

from tests.live_server import free_port

_ALLOW_ALL = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'


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


def _auth(url: str, count: str) -> str:
    """Set how many requests moto serves before it checks signatures ("0": every one); the previous value."""
    r = httpx.post(f"{url}/moto-api/reset-auth", content=count.encode())
    r.raise_for_status()
    return r.json()["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]


@contextmanager
def signed_requests(url: str) -> Iterator[tuple[str, str]]:
    """(access key id, secret) of an IAM user allowed everything, with moto checking every request's
    signature until the block ends. moto keeps this switch process-wide: it is put back as it was."""
    previous = _auth(url, "inf")   # the IAM calls below are not signed by a known key yet
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="setup",
                       aws_secret_access_key="setup")
    name = f"flows-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=_ALLOW_ALL)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    _auth(url, "0")
    try:
        yield key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        _auth(url, previous)
