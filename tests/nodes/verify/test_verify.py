"""verify.email_address against a loopback DNS server; verify.content; verify.certify and tamper tests."""

from __future__ import annotations

import copy

import pytest

from nodes.verify import certify, content, email_address
from nodes.verify.address import DnsSettings
from nodes.verify.certificates import MemoryLedger, verify
from tests.nodes.email.servers import DnsServer, _free_port

ZONES = {"good.example": {"MX": ["10 mx1.good.example.", "20 mx2.good.example."]},
         "amx.example": {"A": ["192.0.2.7"]},
         "nullmx.example": {"MX": ["0 ."]},
         "empty.example": {"TXT": ['"v=spf1 -all"']},
         "mailinator.com": {"MX": ["10 mail.mailinator.com."]}}


@pytest.fixture(scope="module")
def dns_server():
    with DnsServer(ZONES) as server:
        yield server


async def _verify(make_ctx, address, dns):
    ctx = make_ctx(services={"dns": dns})
    return (await email_address.execute(ctx, email_address.Config(address=address), {}))["output"]


@pytest.mark.parametrize("address,result,reason", [
    ("ann@good.example", "deliverable", None),
    ("info@good.example", "risky", "role_address"),
    ("x@amx.example", "risky", "no_mx_uses_a"),
    ("x@nullmx.example", "undeliverable", "null_mx"),
    ("x@empty.example", "undeliverable", "no_mail_host"),
    ("x@nowhere.example", "undeliverable", "domain_not_found"),
    ("x@mailinator.com", "risky", "disposable"),
    ("not an address", "undeliverable", "invalid_syntax"),
    ("x@maily.invalid", "undeliverable", "domain_never_resolves"),
])
async def test_address_verdicts_from_a_loopback_dns_server(make_ctx, dns_server, address, result, reason):
    out = await _verify(make_ctx, address, DnsSettings(("127.0.0.1",), dns_server.port, 1.0, 2.0))
    assert out["result"] == result, out
    assert reason is None or reason in out["reasons"]


async def test_no_dns_answer_is_unknown_not_a_failure(make_ctx):
    silent = DnsSettings(("127.0.0.1",), _free_port(), 0.2, 0.5)  # nothing listens there
    out = await _verify(make_ctx, ["ann@good.example", "bad"], silent)
    assert [r["result"] for r in out["results"]] == ["unknown", "undeliverable"]
    assert "dns_unavailable" in out["results"][0]["reasons"] and out["counts"]["unknown"] == 1


GOOD = {"subject": "Our autumn letter", "text": "Hello.\n1 Main Street, Springfield 12345\n",
        "html": '<p>Hello <img src="https://cdn.example/a.png" alt="logo"></p>'
                '<a href="{{ unsubscribe_url }}">Unsubscribe</a><p>1 Main Street, Springfield 12345</p>'}


async def _content(make_ctx, msg, http=None, **cfg):
    ctx = make_ctx(http=http)
    cfg.setdefault("sender", "Shop <shop@maily.example>")
    config = content.Config(check_links=http is not None, **cfg)
    return (await content.execute(ctx, config, {"message": msg}))["output"]


async def test_content_that_passes(make_ctx):
    out = await _content(make_ctx, GOOD)
    assert out["passed"], out["findings"]


async def test_content_findings(make_ctx, http_server, loopback_client):
    bad = {"subject": "ACT NOW!! YOU ARE A WINNER", "text": "Make money fast, risk free, guaranteed!!!",
           "html": f'<img src="x.png"><a href="javascript:alert(1)">x</a><a href="{http_server}/status/404">gone</a>'
                   f'<a href="https://evil.example/">https://bank.example/login</a><a href="http://10.0.0.1/">intranet</a>'}
    out = await _content(make_ctx, bad, http=loopback_client, sender="not an address")
    checks = {(f["check"], f["severity"]) for f in out["findings"]}
    assert not out["passed"] and out["spam_score"] >= 5
    assert {("unsubscribe", "error"), ("sender", "error"), ("postal_address", "error"), ("spam", "error"),
            ("images", "warning"), ("links", "error")} <= checks
    messages = " ".join(f["message"] for f in out["findings"])
    assert "unsafe link scheme javascript" in messages and "broken link: 404" in messages
    assert "shows bank.example" in messages and "unsafe link" in messages and "10.0.0.1" in messages


async def test_certificates_verify_and_detect_tampering(make_ctx):
    ledger = MemoryLedger()
    ctx = make_ctx(services={"certifier": ledger})
    ctx.tenant_id = "t1"
    cert = (await certify.execute(ctx, certify.Config(), {"input": [{"sent": 1, "to": "a@example.com"}]}))["output"]
    assert (await verify(ledger, cert))["valid"]
    for mutate in (lambda c: c["content"].update(sent=2), lambda c: c.update(issued_at="2020-01-01"),
                   lambda c: c.update(signature=c["signature"][:-4] + "AAA="), lambda c: c["ledger"].update(seq=2),
                   lambda c: c.update(tenant_id="t2")):
        forged = copy.deepcopy(cert)
        mutate(forged)
        assert not (await verify(ledger, forged))["valid"]
    # the ledger itself altered: an earlier entry rewritten breaks the chain for later certificates
    second = (await certify.execute(ctx, certify.Config(), {"input": ["second"]}))["output"]
    ledger.chains["t1"][0]["cert_hash"] = "0" * 64
    report = await verify(ledger, second)
    assert not report["valid"] and report["checks"]["ledger_chain"] is False


async def test_rotated_keys_keep_old_certificates_valid_and_foreign_keys_are_refused(make_ctx):
    ledger = MemoryLedger()
    ctx = make_ctx(services={"certifier": ledger})
    ctx.tenant_id = "t1"
    old = (await certify.execute(ctx, certify.Config(), {"input": ["a"]}))["output"]
    ledger.rotate("t1")
    new = (await certify.execute(ctx, certify.Config(), {"input": ["b"]}))["output"]
    assert old["key_id"] != new["key_id"]
    assert (await verify(ledger, old))["valid"] and (await verify(ledger, new))["valid"]
    # re-signed with a key that is not on file: refused although the signature itself is good
    from nodes.verify.certificates import make_certificate, new_private_key
    pem, pub = new_private_key()
    forged = make_certificate("t1", old["subject"], {"evil": True}, old["key_id"], pem, pub)
    forged["ledger"] = old["ledger"]
    assert not (await verify(ledger, forged))["valid"]
