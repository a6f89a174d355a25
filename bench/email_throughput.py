"""Email benchmarks, each against a baseline measured in the same run:

* render p50 of a typical template (email.template.render_email: sandbox, escaping, CSS
  inlining, text part) vs a plain jinja2.Environment render of the same HTML;
* messages/s of a personalised batch to a loopback aiosmtpd server through the Mailer
  (render, header checks, sent-log, rate limiter, pooled SMTP) vs email.message + smtplib;
* certificates issued and verified per second (memory ledger) vs bare Ed25519 sign/verify.

    .venv/bin/python -m bench.email_throughput [--quick]
"""

from __future__ import annotations

import asyncio
import smtplib
import statistics
import sys
import time
from email.message import EmailMessage

from jinja2 import Environment

from bench.common import Options, Summary, main as run_main, ratio
from nodes.email.mailer import Mailer, MemoryMailStore, RateLimits
from nodes.email.mime import Outgoing
from nodes.email.template import Recipient, render_email
from nodes.verify.certificates import MemoryLedger, certify, verify
from tests.nodes.email.servers import SmtpServer

HTML = """<html><head><style>.btn{background:#2050a0;color:#fff;padding:8px} p{font-family:Arial}</style></head>
<body><h1>Hello {{ recipient.name }}</h1><p>Your {{ plan }} plan renews on {{ date }}.</p>
{% for item in items %}<p>{{ item.name }}: {{ item.price }}</p>{% endfor %}
<p><a class="btn" href="https://shop.example/account">Manage</a></p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> - Shop, 1 Main Street, Springfield 12345</p></body></html>"""
DATA = {"plan": "Pro", "date": "1 Dec", "items": [{"name": f"item {i}", "price": f"${i}.00"} for i in range(5)]}


def _p50(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


async def bench(opts: Options) -> list[Summary]:
    quick = opts.quick
    n_mail = 1_000 if quick else 10_000
    scope = {**DATA, "recipient": Recipient(name="Ann"), "unsubscribe_url": "https://m.example/u/x"}
    render = _p50(lambda: render_email({"subject": "Hi {{ recipient.name }}", "html": HTML}, scope), 300)
    plain_template = Environment(autoescape=True).from_string(HTML)
    base_render = _p50(lambda: plain_template.render({**scope, "recipient": {"name": "Ann"}}), 300)
    plain = plain_template.render({**scope, "recipient": {"name": "Ann"}})
    print(f"render p50: {render:.3f} ms (baseline plain Jinja2 {base_render:.4f} ms)")

    with SmtpServer() as server:
        mailer = Mailer(store=MemoryMailStore({"kind": "smtp", "host": "127.0.0.1", "port": server.port,
                                               "security": "none"}),
                        limits=RateLimits("1000000/second"), allowed_hosts=frozenset({"127.0.0.1"}))
        t = time.perf_counter()
        msgs = []
        for i in range(n_mail):
            body = render_email({"subject": "Hi {{ recipient.name }}", "html": HTML},
                                {**scope, "recipient": Recipient(name=f"User {i}")})
            msgs.append(Outgoing(key=f"bench:n:{i}", sender="shop@maily.example", to=f"user{i}@example.com",
                                 subject=body["subject"], html=body["html"], text=body["text"],
                                 unsubscribe_url="https://m.example/u/x"))
        await mailer.send_batch("t", "bench", "n", msgs)
        ours = n_mail / (time.perf_counter() - t)
        n_base = n_mail // 2

        def baseline() -> float:
            t0 = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", server.port) as s:
                for i in range(n_base):
                    m = EmailMessage()
                    m["From"], m["To"], m["Subject"] = "shop@maily.example", f"b{i}@example.com", f"Hi User {i}"
                    m.set_content("hello")
                    m.add_alternative(plain, subtype="html")
                    s.send_message(m)
            return n_base / (time.perf_counter() - t0)

        base = await asyncio.to_thread(baseline)
        print(f"SMTP batch of {n_mail}: {ours:.0f} msg/s (baseline email.message + smtplib {base:.0f} msg/s, "
              f"ratio {ours / base:.2f}); received {len(server.messages)}")

    ledger = MemoryLedger()
    n_cert = 300 if quick else 2_000
    t = time.perf_counter()
    certs = [await certify(ledger, "t", {"run_id": "r"}, {"n": i, "html": "x" * 2000}) for i in range(n_cert)]
    c_rate = n_cert / (time.perf_counter() - t)
    t = time.perf_counter()
    for c in certs[-200:]:
        assert (await verify(ledger, c))["valid"]
    v_rate = 200 / (time.perf_counter() - t)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.generate()
    t = time.perf_counter()
    for i in range(n_cert):
        key.public_key().verify(key.sign(b"x" * 2000), b"x" * 2000)
    bare = n_cert / (time.perf_counter() - t)
    print(f"certify {c_rate:.0f}/s; verify (chain of {n_cert} walked each time) {v_rate:.0f}/s; "
          f"bare Ed25519 sign+verify {bare:.0f}/s")
    return [
        Summary("email", "render p50, typical template", f"{render:.2f} ms", f"plain Jinja2 {base_render:.2f} ms",
                ratio(render, base_render), "-", None),
        Summary("email", f"personalised batch of {n_mail} to loopback SMTP", f"{ours:.0f} msg/s",
                f"email.message + smtplib {base:.0f} msg/s", ratio(ours, base), "-", None),
        Summary("email", "certificates issued", f"{c_rate:.0f}/s", f"bare Ed25519 sign+verify {bare:.0f}/s",
                ratio(c_rate, bare), "-", None),
        Summary("email", f"certificates verified (chain of {n_cert})", f"{v_rate:.0f}/s", "-", "-", "-", None),
    ]


if __name__ == "__main__":
    run_main(bench, __doc__ or "", sys.argv[1:])
