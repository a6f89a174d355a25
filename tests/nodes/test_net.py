"""SafeHttpClient / check_url: SSRF refusals, pinning, redirects, limits, against a real loopback server."""

import ipaddress
from datetime import datetime, timezone

import pytest

from nodes.net import BlockedAddressError, SafeHttpClient, check_url, checked_address, is_public_address, retry_after_s
from nodes.sdk import NodeConfigError, NodeTemporaryError

BLOCKED_URLS = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:7f00:1]/",
    "http://[::1]/",
    "http://100.64.0.1/",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://127.1/",
    "http://[2002:7f00:1::]/",          # 6to4 wrapping 127.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fefe]/",  # Teredo with client 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",      # NAT64 of 169.254.169.254
    "http://[fe80::1]/",
    "http://[fc00::1]/",
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
async def test_private_and_tricky_targets_are_refused_without_allow_listing(url):
    with pytest.raises(BlockedAddressError):
        await check_url(url, frozenset())


async def test_zero_padded_ipv4_is_refused_as_invalid():
    with pytest.raises(NodeConfigError):
        await check_url("http://127.000.000.001/", frozenset())


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/"])
async def test_only_http_and_https_schemes_are_accepted(url):
    with pytest.raises(NodeConfigError):
        await check_url(url, frozenset())


def test_public_addresses_pass_the_address_check():
    for ip in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"):
        assert is_public_address(ipaddress.ip_address(ip))


async def test_public_ip_literal_is_accepted_without_dns():
    assert [str(ip) for ip in await check_url("https://8.8.8.8/x", frozenset())] == ["8.8.8.8"]


async def test_numeric_host_error_names_the_normalised_address():
    with pytest.raises(BlockedAddressError, match="127.0.0.1"):
        await check_url("http://2130706433/", frozenset())


async def test_allow_listed_ip_or_network_skips_the_private_check():
    assert await check_url("http://127.0.0.1:9/", frozenset({"127.0.0.1"}))
    assert await check_url("http://10.1.2.3/", frozenset({"10.0.0.0/8"}))
    assert await check_url("http://localhost/", frozenset({"localhost"}))


async def test_request_to_unlisted_loopback_server_is_refused(http_server):
    async with SafeHttpClient() as client:
        with pytest.raises(BlockedAddressError):
            await client.request("GET", f"{http_server}/echo")


async def test_request_reaches_allow_listed_loopback_server_with_host_header(http_server, loopback_client):
    resp = await loopback_client.request("POST", f"{http_server}/echo", headers={"X-A": "1"},
                                         params={"q": "v"}, json={"a": 1})
    assert resp.status == 200
    data = __import__("json").loads(resp.body_bytes)
    assert data["method"] == "POST" and data["query"] == {"q": "v"}
    assert data["headers"]["Host"] == http_server.removeprefix("http://")
    assert data["headers"]["X-A"] == "1" and data["body"] == '{"a":1}'
    assert resp.url.startswith(http_server) and resp.elapsed_ms >= 0


async def test_redirect_within_allowed_host_is_followed(http_server, loopback_client):
    resp = await loopback_client.request("GET", f"{http_server}/redirect?to=/text")
    assert resp.status == 200 and resp.body_bytes == b"hello world" and resp.url.endswith("/text")


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://0x7f000001/"])
async def test_redirect_from_allowed_host_to_blocked_address_is_refused(http_server, loopback_client, target):
    with pytest.raises(BlockedAddressError):
        await loopback_client.request("GET", f"{http_server}/redirect?to={target}")


async def test_redirect_303_turns_post_into_get_without_body(http_server, loopback_client):
    resp = await loopback_client.request("POST", f"{http_server}/redirect?code=303&to=/echo", json={"a": 1})
    data = __import__("json").loads(resp.body_bytes)
    assert data["method"] == "GET" and data["body"] == ""


async def test_redirect_loop_stops_after_max_redirects(http_server):
    async with SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), max_redirects=2) as client:
        loop = f"{http_server}/redirect?to=/redirect%3Fto%3D/redirect%253Fto%253D/text"
        with pytest.raises(NodeConfigError, match="redirects"):
            await client.request("GET", loop)


async def test_response_over_size_cap_with_content_length_is_refused(http_server):
    async with SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), max_response_bytes=100) as client:
        with pytest.raises(NodeConfigError, match="larger than 100 bytes"):
            await client.request("GET", f"{http_server}/big?n=1000")


async def test_streamed_response_over_size_cap_stops_reading(http_server):
    async with SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), max_response_bytes=100_000) as client:
        with pytest.raises(NodeConfigError, match="larger than"):
            await client.request("GET", f"{http_server}/stream-big?chunks=200")


async def test_total_timeout_is_a_temporary_error(http_server):
    async with SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=0.3) as client:
        with pytest.raises(NodeTemporaryError):
            await client.request("GET", f"{http_server}/slow?s=2")


async def test_connection_refused_is_a_temporary_error():
    async with SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=2) as client:
        with pytest.raises(NodeTemporaryError):
            await client.request("GET", "http://127.0.0.1:1/")


async def test_connections_are_pooled_per_hostname_not_per_ip(http_server):
    port = http_server.rsplit(":", 1)[1]
    async with SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1", "localhost"})) as client:
        await client.request("GET", f"http://127.0.0.1:{port}/text")
        await client.request("GET", f"http://localhost:{port}/text")
        assert set(client._clients) == {"127.0.0.1", "localhost"}
    assert client._clients == {}


@pytest.mark.parametrize("value, expected", [
    ("7", 7.0), ("0.25", 0.25), (" 3 ", 3.0), ("-5", 0.0), ("Tue, 01 Jan 2030 00:01:00 GMT", 60.0),
    ("", None), (None, None), ("soon", None), ("inf", None), ("nan", None),
])
def test_retry_after_reads_seconds_decimals_and_dates(value, expected):
    """Retry-After as delta-seconds (decimals too) or an HTTP date gives the seconds to wait; junk gives None."""
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert retry_after_s(value, now) == expected


async def test_checked_address_refuses_loopback_unless_allow_listed():
    """A database host of 127.0.0.1 is refused without the allow-list and is the address to dial with it."""
    with pytest.raises(BlockedAddressError) as err:
        await checked_address("127.0.0.1", 5432)
    assert err.value.pointer == "/credential"
    assert await checked_address("127.0.0.1", 5432, frozenset({"127.0.0.1"})) == "127.0.0.1"
    assert await checked_address("localhost", 6379, frozenset({"localhost"})) in ("127.0.0.1", "::1")


@pytest.mark.parametrize("allowed", [frozenset(), frozenset({"127.0.0.1", "localhost"})])
async def test_checked_address_refuses_cloud_metadata(allowed):
    """169.254.169.254 (and its IPv6-mapped form) is refused, also when loopback is allow-listed."""
    for host in ("169.254.169.254", "::ffff:169.254.169.254", "[::ffff:169.254.169.254]"):
        with pytest.raises(BlockedAddressError, match="169.254.169.254"):
            await checked_address(host, 3306, allowed, pointer="/provider")


async def test_checked_address_refuses_odd_numeric_forms_at_the_given_pointer():
    """2130706433 (127.0.0.1 written as one number) is refused at the field the caller names."""
    with pytest.raises(BlockedAddressError) as err:
        await checked_address("2130706433", 6379, pointer="/host")
    assert err.value.pointer == "/host"
