"""The S3 client's guards: aiohttp resolves names only to addresses nodes.net allowed."""

from __future__ import annotations

import socket

import pytest

from nodes.net import BlockedAddressError
from nodes.storage.client import _GuardedResolver, endpoint_of
from nodes.credentials import ResolvedCredential


async def test_the_resolver_refuses_a_name_that_resolves_to_a_private_address():
    """localhost resolves to loopback: refused unless allowed, the error naming the address."""
    with pytest.raises(BlockedAddressError, match="127.0.0.1|::1"):
        await _GuardedResolver(frozenset()).resolve("localhost", 9000, socket.AF_INET)


async def test_the_resolver_answers_the_checked_addresses_of_an_allowed_name():
    """An allowed name resolves to its addresses, which is where aiohttp then connects."""
    answers = await _GuardedResolver(frozenset({"localhost"})).resolve("localhost", 9000, socket.AF_INET)
    assert {a["host"] for a in answers} <= {"127.0.0.1", "::1"} and answers[0]["port"] == 9000
    assert all(a["hostname"] == "localhost" for a in answers)


def test_without_an_endpoint_the_credential_uses_aws_in_its_region():
    """An s3 credential with no endpoint_url talks to AWS's endpoint of its region."""
    cred = ResolvedCredential("c", "s3", {"region": "eu-west-3", "access_key_id": "a", "secret_access_key": "b"})
    assert endpoint_of(cred) == "https://s3.eu-west-3.amazonaws.com"
