"""Email benchmarks, each against a baseline measured in the same run:

* render p50 of a typical template (email.template.render_email: sandbox, escaping, CSS
  inlining, text part) vs a plain jinja2.Environment render of the same subject and HTML
  (autoescape on; no sandbox, no inlining, no text part), printed as a ratio;
* messages/s of a personalised batch to a loopback aiosmtpd server through the Mailer
  (render, header checks, sent-log, rate limiter, pooled SMTP) vs email.message + smtplib
  with pre-rendered HTML over one connection, measured just before and just after ours;
* certificates issued per second (memory ledger: canonical JSON, SHA-256, Ed25519 signature,
  hash-chained ledger entry) vs a bare Ed25519 signature of 2 KB; verified per second.

    .venv/bin/python -m bench.email_throughput [--quick]     # full: 10,000 messages; --quick: 1,000
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import statistics
import sys
import time
from email.message import EmailMessage

from jinja2 import Environment

from bench.common import Options, Summary, main as run_main, ratio
from nodes.email.mailer import Mailer, MemoryMailStore, RateLimits
from nodes.email.mime import Outgoing
from nodes.email.template import Recipient, html_to_text, inline_css, render_email
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
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}")
    n_mail = 1_000 if quick else 10_000
    scope = {**DATA, "recipient": Recipient(name="Ann"), "unsubscribe_url": "https://m.example/u/x"}
    templates = {"subject": "Hi {{ recipient.name }}", "html": HTML}
    render = _p50(lambda: render_email(templates, scope), 500)
    # The fair baseline: the same two templates through a plain jinja2.Environment (autoescape
    # on, as in ours), same scope, no sandbox, no CSS inlining, no generated text part.
    plain_env = Environment(autoescape=True)
    plain_subject, plain_html = plain_env.from_string(templates["subject"]), plain_env.from_string(HTML)
    base_render = _p50(lambda: (plain_subject.render(scope), plain_html.render(scope)), 500)
    plain = plain_html.render(scope)
    print(f"render p50: {render:.3f} ms vs plain Jinja2 {base_render:.4f} ms "
          f"(ratio {render / base_render:.1f}x: sandbox, CSS inlining, text part, size checks)")
    inlined = render_email(templates, scope)["html"]
    inline, text = _p50(lambda: inline_css(plain), 500), _p50(lambda: html_to_text(inlined), 500)
    print(f"  of which CSS inlining {inline:.3f} ms, generated text part {text:.3f} ms, "
          f"sandboxed render and checks {render - inline - text:.3f} ms")

    with SmtpServer() as server:
        n_base = n_mail // 4

        def baseline() -> float:
            t0 = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", server.port) as s:
                for i in range(n_base):
                    m = EmailMessage()
                    m["From"], m["To"], m["Subject"] = "shop@maily.example", f"b{i}@example.com", f"Hi User {i}"
                    m.set_content("hello")
                    m.add_alternative(plain, subtype="html")
                    s.send_message(m)
            return time.perf_counter() - t0

        # The baseline runs just before and just after ours, so a change of load on a shared
        # machine during the run affects both sides alike.
        base_before = await asyncio.to_thread(baseline)
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
        results = await mailer.send_batch("t", "bench", "n", msgs)
        ours = n_mail / (time.perf_counter() - t)
        base_after = await asyncio.to_thread(baseline)
        base = 2 * n_base / (base_before + base_after)
        assert sum(r["status"] == "sent" for r in results) == n_mail
        print(f"SMTP batch of {n_mail}: {ours:.0f} msg/s (baseline email.message + smtplib {base:.0f} msg/s: "
              f"{n_base / base_before:.0f} before, {n_base / base_after:.0f} after; ratio {ours / base:.2f}); "
              f"received {len(server.messages)}")

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ledger, key = MemoryLedger(), Ed25519PrivateKey.generate()
    n_cert = 300 if quick else 2_000
    certs: list = []
    t_cert = t_bare = 0.0
    for start in range(0, n_cert, 100):   # interleaved chunks: ours and the baseline see the same load
        t = time.perf_counter()
        for i in range(start, min(start + 100, n_cert)):
            certs.append(await certify(ledger, "t", {"run_id": "r"}, {"n": i, "html": "x" * 2000}))
        t_cert += time.perf_counter() - t
        t = time.perf_counter()
        for i in range(start, min(start + 100, n_cert)):   # certify's cryptography: one Ed25519 signature
            key.sign(b"x" * 2000)
        t_bare += time.perf_counter() - t
    c_rate, bare = n_cert / t_cert, n_cert / t_bare
    t = time.perf_counter()
    for c in certs[-200:]:
        assert (await verify(ledger, c))["valid"]
    v_rate = 200 / (time.perf_counter() - t)
    print(f"certify {c_rate:.0f}/s; verify (chain of {n_cert} walked each time) {v_rate:.0f}/s; "
          f"bare Ed25519 sign {bare:.0f}/s")
    return [
        Summary("email", "render p50, typical template", f"{render:.2f} ms", f"plain Jinja2 {base_render:.3f} ms",
                ratio(render, base_render), "-", None),
        Summary("email", f"personalised batch of {n_mail} to loopback SMTP", f"{ours:.0f} msg/s",
                f"email.message + smtplib {base:.0f} msg/s", ratio(ours, base), "-", None),
        Summary("email", "certificates issued", f"{c_rate:.0f}/s", f"bare Ed25519 sign {bare:.0f}/s",
                ratio(c_rate, bare), "-", None),
        Summary("email", f"certificates verified (chain of {n_cert})", f"{v_rate:.0f}/s", "-", "-", "-", None),
    ]


if __name__ == "__main__":
    run_main(bench, __doc__ or "", sys.argv[1:])
