"""Address checks behind verify.email_address: syntax, DNS (MX, then A/AAAA), disposable, role.

DNS goes to the resolver in DnsSettings (MAILY_DNS_*), so tests point it at a loopback
server and operators at their own. A resolver that does not answer makes the verdict
"unknown": being offline says nothing about the address.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver
from email_validator import EmailNotValidError, validate_email

ROLE_LOCAL_PARTS = frozenset({
    "abuse", "admin", "administrator", "billing", "contact", "help", "hello", "hostmaster", "info", "it",
    "jobs", "mail", "marketing", "media", "no-reply", "noreply", "office", "postmaster", "press", "privacy",
    "root", "sales", "security", "service", "support", "team", "webmaster",
})
# RFC 6761: these names never resolve, so no query is needed to know it.
NEVER_RESOLVE = ("invalid", "localhost")


@lru_cache(maxsize=1)
def disposable_domains() -> frozenset[str]:
    path = Path(__file__).with_name("disposable_domains.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class DnsSettings:
    nameservers: tuple[str, ...] = ()      # empty: the system's resolv.conf
    port: int = 53
    timeout_s: float = 2.0                 # per query try
    lifetime_s: float = 4.0                # whole lookup
    enabled: bool = True

    @classmethod
    def from_env(cls) -> "DnsSettings":
        servers = tuple(s.strip() for s in os.environ.get("MAILY_DNS_NAMESERVERS", "").split(",") if s.strip())
        return cls(servers, int(os.environ.get("MAILY_DNS_PORT", 53)),
                   float(os.environ.get("MAILY_DNS_TIMEOUT_S", 2.0)), float(os.environ.get("MAILY_DNS_LIFETIME_S", 4.0)),
                   os.environ.get("MAILY_DNS_ENABLED", "true").lower() not in ("0", "false", "no"))

    def resolver(self) -> dns.asyncresolver.Resolver:
        if self.nameservers:
            r = dns.asyncresolver.Resolver(configure=False)
            r.nameservers = list(self.nameservers)
            r.port = self.port
        else:
            r = dns.asyncresolver.Resolver()
        r.timeout, r.lifetime = self.timeout_s, self.lifetime_s
        return r


class _Unanswered(Exception):
    pass


async def _query(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> list[Any] | None:
    """Records, [] when the name has none of that type, None when the name does not exist."""
    try:
        return list(await resolver.resolve(name, rdtype, search=False))
    except dns.resolver.NXDOMAIN:
        return None
    except dns.resolver.NoAnswer:
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout, OSError) as exc:
        raise _Unanswered(type(exc).__name__) from None


async def check_address(address: str, dns_settings: DnsSettings) -> dict[str, Any]:
    reasons: list[str] = []
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        if "special-use or reserved name" in str(exc) and address.rsplit(".", 1)[-1].lower() in NEVER_RESOLVE:
            return _verdict(address, "undeliverable", ["domain_never_resolves"], {})
        return _verdict(address, "undeliverable", ["invalid_syntax"], {"error": str(exc)})
    local, domain = valid.local_part.lower(), valid.ascii_domain.lower()
    details: dict[str, Any] = {"normalized": valid.normalized, "domain": domain}
    disposable = domain in disposable_domains() or any(domain.endswith("." + d) for d in disposable_domains())
    if disposable:
        reasons.append("disposable")
    if local.split("+", 1)[0] in ROLE_LOCAL_PARTS:
        reasons.append("role_address")
    if not dns_settings.enabled:
        return _verdict(address, "unknown", reasons + ["dns_disabled"], details)
    resolver = dns_settings.resolver()
    try:
        mx = await _query(resolver, domain, "MX")
        if mx is None:
            return _verdict(address, "undeliverable", reasons + ["domain_not_found"], details)
        hosts = sorted((r.preference, r.exchange.to_text().rstrip(".")) for r in mx)
        details["mx"] = [h for _, h in hosts]
        if len(hosts) == 1 and hosts[0][1] in ("", "."):  # RFC 7505 null MX: the domain takes no mail
            return _verdict(address, "undeliverable", reasons + ["null_mx"], details)
        if not hosts:  # RFC 5321 5.1: no MX means the domain's own address is the mail host
            a = await _query(resolver, domain, "A") or await _query(resolver, domain, "AAAA")
            if not a:
                return _verdict(address, "undeliverable", reasons + ["no_mail_host"], details)
            details["a"] = [r.to_text() for r in a]
            reasons.append("no_mx_uses_a")
    except _Unanswered as exc:
        return _verdict(address, "unknown", reasons + ["dns_unavailable"], {**details, "error": str(exc)})
    risky = {"disposable", "role_address", "no_mx_uses_a"} & set(reasons)
    return _verdict(address, "risky" if risky else "deliverable", reasons, details)


def _verdict(address: str, result: str, reasons: list[str], details: dict[str, Any]) -> dict[str, Any]:
    return {"address": address, "result": result, "reasons": reasons, **details}
