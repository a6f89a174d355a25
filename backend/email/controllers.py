"""/api/email: preview, tenant templates, provider settings, outbox, suppressions; the public
unsubscribe page (GET shows it, POST is RFC 8058 one-click) and provider webhooks."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

from litestar import Controller, MediaType, Request, Response, delete, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_editor, requires_owner
from backend.auth.schemas import Principal
from backend.credentials import managed
from backend.credentials.envelope import Keyring
from backend.email import services
from backend.email.models import EmailTemplate
from backend.email.previews import render_off_loop
from backend.email.schemas import OutboxMessageOut, OutboxSummaryOut, PreviewIn, PreviewOut, ProviderIn, ProviderOut, \
    SuppressionAddedOut, SuppressionIn, SuppressionOut, TemplateIn, TemplateOut, UncertainOut, WebhookOut
from backend.email.services import suppress
from backend.email.store import PROVIDER_NAME, PROVIDER_SETTINGS, provider_values, public_url
from backend.email.uncertain import UncertainIn, resolve
from backend.email.webhooks import SIGNED_PROVIDERS, BadSignature, BadSigningKey, check_signing_key, provider_events, \
    remember, verify
from backend.errors import BadRequest, NotFound, Unauthorized
from backend.keys import previous_secret_keys, secret_key
from backend.params import OFFSET
from nodes.email.mailer import UnsubscribeSigner
from nodes.email.template import PreviewRecipient, Recipient, escape, render_email
from nodes.sdk import NodeConfigError


def _template_out(t: EmailTemplate) -> TemplateOut:
    return TemplateOut.model_validate(t, from_attributes=True)


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
    async def preview(self, data: PreviewIn, principal: Principal, db_session: AsyncSession) -> PreviewOut:
        """Render subject, HTML (escaped, CSS inlined) and text as email.compose would."""
        templates = {"subject": data.subject, "html": data.html, "text": data.text}
        if data.template_id:
            saved = await services.get_template(db_session, principal.tenant_id, data.template_id)
            templates = {k: v or getattr(saved, k) for k, v in templates.items()}
        recipient = Recipient(data.recipient) if data.recipient is not None else PreviewRecipient()
        try:
            scope = {**data.data, "data": data.data, "recipient": recipient, "unsubscribe_url": "#unsubscribe"}
            return PreviewOut(**await render_off_loop(principal.tenant_id, lambda: render_email(templates, scope)))
        except NodeConfigError as exc:
            raise BadRequest(exc.message, field=exc.pointer.lstrip("/")) from None

    @get("/templates", operation_id="listEmailTemplates")
    async def list_templates(self, principal: Principal, db_session: AsyncSession) -> list[TemplateOut]:
        return [_template_out(t) for t in await services.list_templates(db_session, principal.tenant_id)]

    @post("/templates", operation_id="createEmailTemplate", guards=[requires_editor], status_code=201)
    async def create_template(self, data: TemplateIn, principal: Principal, db_session: AsyncSession) -> TemplateOut:
        return _template_out(await services.create_template(db_session, principal.tenant_id, data))

    @get("/templates/{template_id:str}", operation_id="getEmailTemplate")
    async def get_template(self, template_id: str, principal: Principal, db_session: AsyncSession) -> TemplateOut:
        return _template_out(await services.get_template(db_session, principal.tenant_id, template_id))

    @put("/templates/{template_id:str}", operation_id="updateEmailTemplate", guards=[requires_editor])
    async def update_template(self, template_id: str, data: TemplateIn, principal: Principal,
                              db_session: AsyncSession) -> TemplateOut:
        return _template_out(await services.update_template(db_session, principal.tenant_id, template_id, data))

    @delete("/templates/{template_id:str}", operation_id="deleteEmailTemplate", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_template(self, template_id: str, principal: Principal, db_session: AsyncSession) -> None:
        await services.delete_template(db_session, principal.tenant_id, template_id)

    @get("/provider", operation_id="getEmailProvider")
    async def get_provider(self, request: Request, principal: Principal, db_session: AsyncSession) -> ProviderOut:
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
        return ProviderOut(**out)

    @put("/provider", operation_id="setEmailProvider", guards=[requires_owner])
    async def set_provider(self, request: Request, data: ProviderIn, principal: Principal,
                           db_session: AsyncSession) -> ProviderOut:
        if data.kind == "smtp" and not data.host:
            raise BadRequest("SMTP needs a host", field="host")
        if data.kind == "mailgun" and not data.domain:
            raise BadRequest("Mailgun needs the sending domain", field="domain")
        settings = data.model_dump(exclude={"kind", "secret", "webhook_signing_key"})
        if data.webhook_signing_key:
            try:
                check_signing_key(data.kind, data.webhook_signing_key)
            except BadSigningKey as exc:
                raise BadRequest(str(exc), field="webhook_signing_key") from None
        keyring = _keyring(request)
        current = await provider_values(db_session, keyring, principal.tenant_id) or {}
        values = {"kind": data.kind, **settings, "secret": data.secret or current.get("secret", ""),
                  "webhook_provider": current.get("webhook_provider", ""),
                  "webhook_secret": current.get("webhook_secret", "")}
        if data.webhook_signing_key is not None:   # absent: kept; empty: removed
            values["webhook_provider"] = data.kind if data.webhook_signing_key else ""
            values["webhook_secret"] = data.webhook_signing_key
        await managed.upsert(db_session, keyring, principal.tenant_id, "email_provider", PROVIDER_NAME, values, {},
                             created_by=principal.user_id)
        await db_session.flush()
        return await self.get_provider.fn(self, request, principal, db_session)

    @get("/outbox", operation_id="listEmailOutbox")
    async def list_outbox(self, principal: Principal, db_session: AsyncSession,
                          limit: int = Parameter(default=50, ge=1, le=500),
                          offset: int = OFFSET) -> list[OutboxSummaryOut]:
        """Mail kept by the built-in outbox (tenants without a provider): nothing was sent."""
        rows = await services.list_outbox(db_session, principal.tenant_id, limit, offset)
        return [OutboxSummaryOut.model_validate(r, from_attributes=True) for r in rows]

    @get("/outbox/{message_id:str}", operation_id="getEmailOutboxMessage")
    async def get_outbox(self, message_id: str, principal: Principal, db_session: AsyncSession) -> OutboxMessageOut:
        row = await services.get_outbox(db_session, principal.tenant_id, message_id)
        return OutboxMessageOut.model_validate(row, from_attributes=True)

    @get("/suppressions", operation_id="listEmailSuppressions")
    async def list_suppressions(self, principal: Principal, db_session: AsyncSession) -> list[SuppressionOut]:
        rows = await services.list_suppressions(db_session, principal.tenant_id)
        return [SuppressionOut.model_validate(r, from_attributes=True) for r in rows]

    @post("/suppressions", operation_id="addEmailSuppression", guards=[requires_editor], status_code=201)
    async def add_suppression(self, data: SuppressionIn, principal: Principal,
                              db_session: AsyncSession) -> SuppressionAddedOut:
        email = data.email.strip().lower()
        if "@" not in email:
            raise BadRequest("email is required", field="email")
        await suppress(db_session, principal.tenant_id, email, "manual", "api")
        return SuppressionAddedOut(email=email, reason="manual")

    @delete("/suppressions/{email:str}", operation_id="deleteEmailSuppression", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_suppression(self, email: str, principal: Principal, db_session: AsyncSession) -> None:
        await services.delete_suppression(db_session, principal.tenant_id, email)


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
    async def webhook(self, request: Request, provider: str, token: str, data: Any, db_session: AsyncSession) -> WebhookOut:
        """Public: bounces and complaints become suppressions. Authenticated by the secret URL and,
        when the tenant set a signing key, the provider's signature (401 when missing or wrong)."""
        if provider not in (*SIGNED_PROVIDERS, "smtp", "outbox"):   # smtp/outbox: the URL GET shows, no events
            raise NotFound(f"unknown provider {provider}")
        tenant_id = token.partition(".")[0]
        if not any(hmac.compare_digest(token.encode(), webhook_token(request, tenant_id, key).encode())
                   for key in _secrets(request)):
            raise NotFound("unknown webhook")
        raw = await request.body()   # the signature covers the bytes as sent; `data` is them parsed
        verified_by = await _check_signature(request, db_session, tenant_id, provider, raw, data)
        events = provider_events(provider, data)
        for email, reason in events:
            await suppress(db_session, tenant_id, email.lower(), reason, provider)
        return WebhookOut(suppressed=len(events), verified_by=verified_by)


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

    @post("/resend-uncertain", operation_id="resendUncertainEmail", guards=[requires_editor], status_code=202)
    async def resend(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession,
                     data: UncertainIn | None = None) -> UncertainOut:
        """Send the uncertain messages again (same Message-ID); the run goes on from the email step."""
        return await self._resolve(request, run_id, principal, db_session, "resend", data)

    @post("/mark-done", operation_id="markUncertainEmailDone", guards=[requires_editor], status_code=202)
    async def mark_done(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession,
                        data: UncertainIn | None = None) -> UncertainOut:
        """Record the uncertain messages as delivered, without sending; the run goes on from the email step."""
        return await self._resolve(request, run_id, principal, db_session, "done", data)

    async def _resolve(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession,
                       action: Literal["resend", "done"], data: UncertainIn | None) -> UncertainOut:
        st = request.app.state
        run, count = await resolve(db_session, principal, st.runner, st.recorder, st.registry, run_id, action,
                                   data or UncertainIn())
        return UncertainOut(run_id=run.id, status=run.status, messages=count)
