"""/api/email: preview, tenant templates, provider settings, outbox, suppressions; the public
unsubscribe page (GET shows it, POST is RFC 8058 one-click) and provider webhooks."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

import sqlalchemy as sa
from litestar import Controller, MediaType, Request, Response, delete, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_editor, requires_owner
from backend.auth.schemas import Principal
from backend.credentials import managed
from backend.credentials.envelope import Keyring
from backend.db.models import looks_like_id, new_id, utcnow
from backend.email.models import EmailOutboxMessage, EmailSuppression, EmailTemplate
from backend.email.previews import render_off_loop
from backend.email.store import PROVIDER_NAME, PROVIDER_SETTINGS, provider_values, public_url
from backend.email.uncertain import UncertainIn, resolve
from backend.email.webhooks import SIGNED_PROVIDERS, BadSignature, BadSigningKey, check_signing_key, provider_events, \
    remember, verify
from backend.errors import BadRequest, NotFound, Unauthorized, json_body, read_body, read_json
from backend.keys import previous_secret_keys, secret_key
from backend.params import OFFSET
from nodes.email.mailer import UnsubscribeSigner
from nodes.email.template import PreviewRecipient, Recipient, escape, render_email
from nodes.sdk import NodeConfigError


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    subject: str = Field(default="", max_length=2000)
    html: str = Field(default="", max_length=256_000)
    text: str = Field(default="", max_length=256_000)


class PreviewIn(BaseModel):
    subject: str = ""
    html: str = ""
    text: str = ""
    template_id: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    recipient: dict[str, Any] | None = None


class ProviderIn(BaseModel):
    kind: Literal["outbox", "smtp", "resend", "sendgrid", "mailgun"]
    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    domain: str = ""
    base_url: str = ""
    secret: str = Field(default="", description="SMTP password or API key; stored encrypted, never shown")
    webhook_signing_key: str | None = Field(
        default=None, max_length=4000,
        description="the provider's webhook signing secret (Resend whsec_..., Mailgun HTTP webhook signing key) or "
                    "public key (SendGrid verification key); stored encrypted, never shown. Absent: kept; "
                    "empty: removed (webhooks are then authenticated by the URL token only)")


def _template_out(t: EmailTemplate) -> dict[str, Any]:
    return {k: getattr(t, k) for k in ("id", "name", "subject", "html", "text", "created_at", "updated_at")}


async def _template(s: AsyncSession, p: Principal, template_id: str) -> EmailTemplate:
    row = await s.get(EmailTemplate, template_id) if looks_like_id(template_id) else None
    if row is None or row.tenant_id != p.tenant_id:
        raise NotFound(f"no email template {template_id}")
    return row


def _keyring(request: Request) -> Keyring:
    return Keyring.from_settings(request.app.state.settings)


def _secrets(request: Request) -> list[str]:
    """The app's key, then the previous ones: links and URLs made before a key rotation keep
    working while MAILY_SECRET_KEY_PREVIOUS lists the old key (docs/credentials.md)."""
    s = request.app.state.settings
    return [secret_key(s), *previous_secret_keys(s)]


def _unsubscriber(request: Request, token: str) -> tuple[str, str] | None:
    base = public_url(request.app.state.settings)
    return next((who for key in _secrets(request) if (who := UnsubscribeSigner(key, base).read(token))), None)


def webhook_token(request: Request, tenant_id: str, secret: str | None = None) -> str:
    key = hashlib.sha256(("maily-webhook:" + (secret or secret_key(request.app.state.settings))).encode()).digest()
    return tenant_id + "." + hmac.new(key, tenant_id.encode(), hashlib.sha256).hexdigest()[:32]


class EmailController(Controller):
    path = "/api/email"
    tags = ["email"]

    @post("/preview", operation_id="previewEmail", status_code=200)
    async def preview(self, request: Request, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        """Render subject, HTML (escaped, CSS inlined) and text as email.compose would."""
        body = await read_body(request, PreviewIn)
        templates = {"subject": body.subject, "html": body.html, "text": body.text}
        if body.template_id:
            saved = _template_out(await _template(db_session, principal, body.template_id))
            templates = {k: v or saved[k] for k, v in templates.items()}
        recipient = Recipient(body.recipient) if body.recipient is not None else PreviewRecipient()
        try:
            scope = {**body.data, "data": body.data, "recipient": recipient, "unsubscribe_url": "#unsubscribe"}
            return await render_off_loop(principal.tenant_id, lambda: render_email(templates, scope))
        except NodeConfigError as exc:
            raise BadRequest(exc.message, field=exc.pointer.lstrip("/")) from None

    @get("/templates", operation_id="listEmailTemplates")
    async def list_templates(self, principal: Principal, db_session: AsyncSession) -> list[dict[str, Any]]:
        rows = (await db_session.execute(sa.select(EmailTemplate).where(EmailTemplate.tenant_id == principal.tenant_id)
                                         .order_by(EmailTemplate.name))).scalars()
        return [_template_out(t) for t in rows]

    @post("/templates", operation_id="createEmailTemplate", guards=[requires_editor], status_code=201)
    async def create_template(self, request: Request, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        body = await read_body(request, TemplateIn)
        row = EmailTemplate(tenant_id=principal.tenant_id, **body.model_dump())
        db_session.add(row)
        await db_session.flush()
        return _template_out(row)

    @get("/templates/{template_id:str}", operation_id="getEmailTemplate")
    async def get_template(self, template_id: str, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        return _template_out(await _template(db_session, principal, template_id))

    @put("/templates/{template_id:str}", operation_id="updateEmailTemplate", guards=[requires_editor])
    async def update_template(self, request: Request, template_id: str, principal: Principal,
                              db_session: AsyncSession) -> dict[str, Any]:
        row = await _template(db_session, principal, template_id)
        for k, v in (await read_body(request, TemplateIn)).model_dump().items():
            setattr(row, k, v)
        row.updated_at = utcnow()
        await db_session.flush()
        return _template_out(row)

    @delete("/templates/{template_id:str}", operation_id="deleteEmailTemplate", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_template(self, template_id: str, principal: Principal, db_session: AsyncSession) -> None:
        await db_session.delete(await _template(db_session, principal, template_id))

    @get("/provider", operation_id="getEmailProvider")
    async def get_provider(self, request: Request, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        """The tenant's provider (never its secret) and the webhook URL to give the provider."""
        values = await provider_values(db_session, _keyring(request), principal.tenant_id) or {}
        base = public_url(request.app.state.settings)
        out = {"kind": values.get("kind", "outbox"),
               "settings": {k: values[k] for k in PROVIDER_SETTINGS} if values else {},
               "has_secret": bool(values.get("secret"))}
        out["webhook_url"] = f"{base}/api/email/webhooks/{out['kind']}/{webhook_token(request, principal.tenant_id)}"
        signed = values.get("webhook_provider") if values.get("webhook_secret") else None
        out["webhook_signing_provider"] = signed
        out["webhook_verification"] = (
            f"signature: {signed} webhooks must carry a valid signature (401 otherwise); other providers' are refused"
            if signed else "url_token: no signing key is set, so webhooks are authenticated by the secret URL only")
        return out

    @put("/provider", operation_id="setEmailProvider", guards=[requires_owner])
    async def set_provider(self, request: Request, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        body = await read_body(request, ProviderIn)
        if body.kind == "smtp" and not body.host:
            raise BadRequest("SMTP needs a host", field="host")
        if body.kind == "mailgun" and not body.domain:
            raise BadRequest("Mailgun needs the sending domain", field="domain")
        settings = body.model_dump(exclude={"kind", "secret", "webhook_signing_key"})
        if body.webhook_signing_key:
            try:
                check_signing_key(body.kind, body.webhook_signing_key)
            except BadSigningKey as exc:
                raise BadRequest(str(exc), field="webhook_signing_key") from None
        keyring = _keyring(request)
        current = await provider_values(db_session, keyring, principal.tenant_id) or {}
        values = {"kind": body.kind, **settings, "secret": body.secret or current.get("secret", ""),
                  "webhook_provider": current.get("webhook_provider", ""),
                  "webhook_secret": current.get("webhook_secret", "")}
        if body.webhook_signing_key is not None:   # absent: kept; empty: removed
            values["webhook_provider"] = body.kind if body.webhook_signing_key else ""
            values["webhook_secret"] = body.webhook_signing_key
        await managed.upsert(db_session, keyring, principal.tenant_id, "email_provider", PROVIDER_NAME, values, {},
                             created_by=principal.user_id)
        await db_session.flush()
        return await self.get_provider.fn(self, request, principal, db_session)

    @get("/outbox", operation_id="listEmailOutbox")
    async def list_outbox(self, principal: Principal, db_session: AsyncSession,
                          limit: int = Parameter(default=50, ge=1, le=500),
                          offset: int = OFFSET) -> list[dict[str, Any]]:
        """Mail kept by the built-in outbox (tenants without a provider): nothing was sent."""
        rows = (await db_session.execute(sa.select(EmailOutboxMessage)
                                         .where(EmailOutboxMessage.tenant_id == principal.tenant_id)
                                         .order_by(EmailOutboxMessage.created_at.desc()).limit(limit).offset(offset))).scalars()
        return [{k: getattr(r, k) for k in ("id", "run_id", "node_id", "message_id", "sender", "recipient", "subject",
                                            "created_at")} for r in rows]

    @get("/outbox/{message_id:str}", operation_id="getEmailOutboxMessage")
    async def get_outbox(self, message_id: str, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        row = await db_session.get(EmailOutboxMessage, message_id) if looks_like_id(message_id) else None
        if row is None or row.tenant_id != principal.tenant_id:
            raise NotFound(f"no outbox message {message_id}")
        return {k: getattr(row, k) for k in ("id", "run_id", "node_id", "message_id", "sender", "recipient", "subject",
                                             "raw", "created_at")}

    @get("/suppressions", operation_id="listEmailSuppressions")
    async def list_suppressions(self, principal: Principal, db_session: AsyncSession) -> list[dict[str, Any]]:
        rows = (await db_session.execute(sa.select(EmailSuppression).where(EmailSuppression.tenant_id == principal.tenant_id)
                                         .order_by(EmailSuppression.created_at.desc()).limit(1000))).scalars()
        return [{"email": r.email, "reason": r.reason, "source": r.source, "created_at": r.created_at} for r in rows]

    @post("/suppressions", operation_id="addEmailSuppression", guards=[requires_editor], status_code=201)
    async def add_suppression(self, request: Request, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        doc = await read_json(request)
        email = str(doc.get("email", "")).strip().lower() if isinstance(doc, dict) else ""
        if "@" not in email:
            raise BadRequest("email is required", field="email")
        await suppress(db_session, principal.tenant_id, email, "manual", "api")
        return {"email": email, "reason": "manual"}

    @delete("/suppressions/{email:str}", operation_id="deleteEmailSuppression", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_suppression(self, email: str, principal: Principal, db_session: AsyncSession) -> None:
        await db_session.execute(sa.delete(EmailSuppression).where(EmailSuppression.tenant_id == principal.tenant_id,
                                                                   EmailSuppression.email == email.lower()))


async def suppress(s: AsyncSession, tenant_id: str, email: str, reason: str, source: str) -> None:
    """Idempotent, also when two requests suppress the same address at once (no IntegrityError)."""
    await s.execute(insert(EmailSuppression).values(id=new_id(), tenant_id=tenant_id, email=email, reason=reason,
                                                    source=source, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["tenant_id", "email"]))


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body style="font-family:system-ui;max-width:32rem;margin:4rem auto">{body}</body></html>"""


class UnsubscribeController(Controller):
    path = "/api/email"
    tags = ["email"]

    @get("/unsubscribe/{token:str}", operation_id="unsubscribePage", media_type=MediaType.HTML)
    async def page(self, request: Request, token: str) -> Response:
        """Public. Shows a confirm button; a GET never unsubscribes (link scanners follow GETs)."""
        who = _unsubscriber(request, token)
        if who is None:
            return Response(_PAGE.format(body="<p>This unsubscribe link is not valid.</p>"), status_code=404,
                            media_type=MediaType.HTML)
        return Response(_PAGE.format(body=f"<p>Stop sending mail to <b>{escape(who[1])}</b>?</p>"
                                          f'<form method="post"><button type="submit">Unsubscribe</button></form>'),
                        media_type=MediaType.HTML)

    @post("/unsubscribe/{token:str}", operation_id="unsubscribe", media_type=MediaType.HTML, status_code=200)
    async def one_click(self, request: Request, token: str, db_session: AsyncSession) -> Response:
        """Public. RFC 8058 one-click (body List-Unsubscribe=One-Click) and the page's button."""
        who = _unsubscriber(request, token)
        if who is None:
            return Response(_PAGE.format(body="<p>This unsubscribe link is not valid.</p>"), status_code=404,
                            media_type=MediaType.HTML)
        await suppress(db_session, who[0], who[1], "unsubscribe", "link")
        return Response(_PAGE.format(body="<p>You are unsubscribed.</p>"), media_type=MediaType.HTML)

    @post("/webhooks/{provider:str}/{token:str}", operation_id="emailProviderWebhook", status_code=200)
    async def webhook(self, request: Request, provider: str, token: str, db_session: AsyncSession) -> dict[str, Any]:
        """Public: bounces and complaints become suppressions. Authenticated by the secret URL and,
        when the tenant set a signing key, the provider's signature (401 when missing or wrong)."""
        if provider not in (*SIGNED_PROVIDERS, "smtp", "outbox"):   # smtp/outbox: the URL GET shows, no events
            raise NotFound(f"unknown provider {provider}")
        tenant_id = token.partition(".")[0]
        if not any(hmac.compare_digest(token.encode(), webhook_token(request, tenant_id, key).encode())
                   for key in _secrets(request)):
            raise NotFound("unknown webhook")
        raw, doc = await request.body(), await read_json(request)
        verified_by = await _check_signature(request, db_session, tenant_id, provider, raw, doc)
        events = provider_events(provider, doc)
        for email, reason in events:
            await suppress(db_session, tenant_id, email.lower(), reason, provider)
        return {"suppressed": len(events), "verified_by": verified_by}


async def _check_signature(request: Request, s: AsyncSession, tenant_id: str, provider: str, raw: bytes,
                           doc: Any) -> str:
    """"signature" or "url_token" (no signing key set); raises 401 when the signature fails."""
    values = await provider_values(s, _keyring(request), tenant_id)
    if values is None or not values.get("webhook_secret"):
        return "url_token"
    if values["webhook_provider"] != provider:
        raise Unauthorized(f"only signed {values['webhook_provider']} webhooks are accepted for this tenant",
                           headers={})
    key = values["webhook_secret"]
    try:
        once = verify(provider, key, request.headers, raw, doc)
        if once is not None:
            await remember(s, tenant_id, provider, once)
    except (BadSignature, BadSigningKey) as exc:
        raise Unauthorized(f"webhook signature refused: {exc}", headers={}) from None
    return "signature"


class UncertainSendsController(Controller):
    """A decision on a run's uncertain email sends (backend/email/uncertain.py)."""

    path = "/api/runs/{run_id:str}/email"
    tags = ["email", "runs"]

    @post("/resend-uncertain", operation_id="resendUncertainEmail", guards=[requires_editor], status_code=202,
          operation_class=json_body(UncertainIn))
    async def resend(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        """Send the uncertain messages again (same Message-ID); the run goes on from the email step."""
        return await self._resolve(request, run_id, principal, db_session, "resend")

    @post("/mark-done", operation_id="markUncertainEmailDone", guards=[requires_editor], status_code=202,
          operation_class=json_body(UncertainIn))
    async def mark_done(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        """Record the uncertain messages as delivered, without sending; the run goes on from the email step."""
        return await self._resolve(request, run_id, principal, db_session, "done")

    async def _resolve(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession,
                       action: Literal["resend", "done"]) -> dict[str, Any]:
        body = await read_body(request, UncertainIn) if await request.body() else UncertainIn()
        st = request.app.state
        run, count = await resolve(db_session, principal, st.runner, st.recorder, st.registry, run_id, action, body)
        return {"run_id": run.id, "status": run.status, "messages": count}
