"""The database side of the mail service: nodes.email.mailer.MailStore on our tables, the
tenant template store email.compose reads, and `build_mailer(settings)` for node_services().

The tenant's provider (kind, settings, the password or API key and the webhook signing key) is
an `email_provider` credential in the vault, one per workspace (backend/credentials/managed.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backend.certify.services import DbLedger
from backend.credentials import managed
from backend.credentials.envelope import Keyring
from backend.db.models import utcnow
from backend.db.scoped import find_scoped
from backend.db.session import NODE_POOL_TIMEOUT_S, Database
from backend.email.models import EmailOutboxMessage, EmailSend, EmailSuppression, EmailTemplate
from backend.errors import Conflict
from backend.keys import previous_secret_keys, secret_key
from backend.metrics import observe_email
from backend.settings import Settings
from nodes.approval.links import ApprovalLinks
from nodes.email.mailer import Mailer, RateLimits, UnsubscribeSigner
from nodes.email.mime import Outgoing
from nodes.verify.address import DnsSettings


class LazyDb:
    """node_services() runs before an event loop exists (the CLI): open the engine on first use.
    Its sessions wait their turn for a connection (NODE_POOL_TIMEOUT_S, backend/db/session.py)."""

    def __init__(self, url: str):
        self.url = url
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.url, pool_timeout=NODE_POOL_TIMEOUT_S)
        return self._db

    def sessionmaker(self) -> Any:
        return self.db.sessionmaker()

    async def dispose(self) -> None:
        """Closes the engine's connections (app shutdown); a later use opens a new engine."""
        db, self._db = self._db, None
        if db is not None:
            await db.dispose()


PROVIDER_SETTINGS = ("host", "port", "security", "username", "domain", "base_url")
PROVIDER_NAME = "Email provider"


async def provider_values(s: Any, keyring: Keyring, tenant_id: str) -> dict[str, Any] | None:
    """The tenant's email_provider credential, opened (secret and webhook_secret included), or None.
    A credential no configured key opens counts as none: the owner sets it again."""
    try:
        row, values = await managed.current(s, keyring, tenant_id, "email_provider")
    except Conflict:
        return None
    return values if row is not None else None


class DbMailStore:
    def __init__(self, db: Any, secret: str | Keyring | None = None):
        self.db = db
        self.keyring = secret if isinstance(secret, Keyring) else Keyring(secret or "")

    async def aclose(self) -> None:
        """The engine is shared with the template store and the ledger: one dispose closes it."""
        await self.db.dispose()

    async def provider_config(self, tenant_id: str) -> dict[str, Any] | None:
        async with self.db.sessionmaker() as s:
            values = await provider_values(s, self.keyring, tenant_id)
        if values is None or values["kind"] == "outbox":
            return None
        config = {"kind": values["kind"], **{k: values[k] for k in PROVIDER_SETTINGS}}
        if values.get("secret"):
            config["password" if values["kind"] == "smtp" else "api_key"] = values["secret"]
        return config

    async def suppressed(self, tenant_id: str, emails: list[str]) -> set[str]:
        found: set[str] = set()
        async with self.db.sessionmaker() as s:
            for i in range(0, len(emails), 500):  # bounded IN lists
                q = sa.select(EmailSuppression.email).where(EmailSuppression.tenant_id == tenant_id,
                                                           EmailSuppression.email.in_(emails[i:i + 500]))
                found.update((await s.execute(q)).scalars())
        return found

    async def known(self, tenant_id: str, keys: list[str]) -> dict[str, tuple[str, dict | None]]:
        found: dict[str, tuple[str, dict | None]] = {}
        async with self.db.sessionmaker() as s:
            for i in range(0, len(keys), 500):  # bounded IN lists
                q = sa.select(EmailSend.key, EmailSend.status, EmailSend.result).where(
                    EmailSend.tenant_id == tenant_id, EmailSend.key.in_(keys[i:i + 500]))
                found.update({k: (status, result) for k, status, result in (await s.execute(q)).all()})
        return found

    async def claim(self, tenant_id: str, key: str, to: str, run_id: str, node_id: str) -> tuple[str, dict | None]:
        async with self.db.sessionmaker() as s:
            try:
                async with s.begin():
                    s.add(EmailSend(tenant_id=tenant_id, key=key, recipient=to, run_id=run_id, node_id=node_id))
                return "new", None
            except IntegrityError:
                pass  # the unique (tenant_id, key) says someone claimed it: read what they got
        async with self.db.sessionmaker() as s:
            row = (await s.execute(sa.select(EmailSend).where(EmailSend.tenant_id == tenant_id,
                                                              EmailSend.key == key))).scalar_one()
            return row.status, row.result

    async def finish(self, tenant_id: str, key: str, result: dict[str, Any]) -> None:
        async with self.db.sessionmaker() as s, s.begin():
            await s.execute(sa.update(EmailSend).where(EmailSend.tenant_id == tenant_id, EmailSend.key == key)
                            .values(status="sent", result=result, sent_at=utcnow()))

    async def release(self, tenant_id: str, key: str) -> None:
        async with self.db.sessionmaker() as s, s.begin():
            await s.execute(sa.delete(EmailSend).where(EmailSend.tenant_id == tenant_id, EmailSend.key == key,
                                                       EmailSend.status == "sending"))

    async def outbox_add(self, tenant_id: str, run_id: str, node_id: str, msg: Outgoing, raw: str) -> str:
        async with self.db.sessionmaker() as s, s.begin():
            s.add(EmailOutboxMessage(tenant_id=tenant_id, run_id=run_id, node_id=node_id, key=msg.key,
                                     message_id=msg.message_id, sender=msg.sender, recipient=msg.to,
                                     subject=msg.subject, raw=raw))
        return msg.message_id


class DbTemplates:
    def __init__(self, db: Any):
        self.db = db

    async def get(self, tenant_id: str, template_id: str) -> dict[str, str] | None:
        async with self.db.sessionmaker() as s:
            row = await find_scoped(s, EmailTemplate, tenant_id, template_id)
        if row is None:
            return None
        return {"subject": row.subject, "html": row.html, "text": row.text}


def _rates(raw: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in raw.split(",")) if k.strip() and v.strip()}


def public_url(settings: Settings) -> str:
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def system_sender(public_base: str) -> str:
    """From address of the instance's own mail (invitations, password resets)."""
    host = (urlsplit(public_base).hostname or "").lower()
    # A bare host (localhost) or an address is no mail domain: fall back to a neutral one.
    domain = host if "." in host and not host.replace(".", "").isdigit() else "maily-flow.example"
    return f"Maily Flow <no-reply@{domain}>"


def build_email_services(settings: Settings, http: Any) -> dict[str, Any]:
    """The NodeServices fields of the email and verify nodes."""
    db = LazyDb(settings.resolved_database_url)
    secret = secret_key(settings)
    mailer = Mailer(store=DbMailStore(db, Keyring.from_settings(settings)), signer=UnsubscribeSigner(secret, public_url(settings)),
                    limits=RateLimits(settings.email_tenant_rate, _rates(settings.email_provider_rates)),
                    http=http, allowed_hosts=settings.http_allowed_host_set, observe=observe_email)
    dns = DnsSettings(tuple(s.strip() for s in settings.dns_nameservers.split(",") if s.strip()), settings.dns_port,
                      settings.dns_timeout_s, settings.dns_lifetime_s, settings.dns_enabled)
    links = ApprovalLinks([secret, *previous_secret_keys(settings)], public_url(settings),
                          system_sender(public_url(settings)))
    return {"mailer": mailer, "email_templates": DbTemplates(db), "dns": dns, "certifier": DbLedger(db, secret),
            "approval_links": links}
