"""MailWatcher: one task per watched mailbox (trigger.imap), in the process holding its lease.

Each round renews the lease (`WHERE lease_owner = me AND revision = mine`: a publish or a
delete changed the row, so the watcher stops), fetches the messages above the last UID seen and
starts a run for each, then waits: IDLE where the server has it (connected all along), else
`poll_s` seconds (logged out meanwhile). The last
UID advances in the transaction that records the run, so a restart does not fire a message again.
A UIDVALIDITY other than the one remembered means the mailbox was re-created: its UIDs start
over, and what is in it now is taken as seen. Errors (a refused login, a server that is down)
are kept in `last_error` and retried with backoff (up to `poll_s`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from backend.db.models import new_id, utcnow
from backend.errors import ApiError
from backend.feeds.imap import Mailbox, open_mailbox, parse_message
from backend.feeds.models import FeedPoller, MailAttachment
from backend.triggers.services import start_triggered_run
from nodes.errors import NodeConfigError, NodeError, NodeTemporaryError

log = logging.getLogger("maily.feeds")


class _LostLease(Exception):
    pass


class MailWatcher:
    def __init__(self, runtime: Any, poller: FeedPoller, revision: int) -> None:
        self.runtime, self.poller, self.revision = runtime, poller, revision
        self.state = dict(poller.state or {})
        config = poller.config or {}
        self.mailbox = str(config.get("mailbox") or "INBOX")
        self.poll_s = max(10, int(config.get("poll_s") or 60))
        self.error: str | None = poller.last_error
        self.box: Mailbox | None = None   # the open mailbox, while connected
        self.idle: bool | None = None       # whether the server has IDLE (known once connected)

    @property
    def db(self) -> Any:
        return self.runtime.state.db

    def _mine(self) -> tuple[Any, ...]:
        return (FeedPoller.id == self.poller.id, FeedPoller.revision == self.revision,
                FeedPoller.lease_owner == self.runtime.owner, FeedPoller.enabled.is_(True))

    async def _renew(self) -> bool:
        async with self.db.sessionmaker() as s:
            done = await s.execute(update(FeedPoller).where(*self._mine())
                                   .values(lease_until=utcnow() + timedelta(seconds=self.runtime.lease_s),
                                           last_polled_at=utcnow())
                                   .execution_options(synchronize_session=False))
            await s.commit()
        return done.rowcount == 1

    async def _record(self, error: str | None) -> None:
        if error == self.error:
            return
        if error:
            log.warning("mail watcher %s of workflow %s: %s", self.poller.id, self.poller.workflow_id, error)
        self.error = error
        async with self.db.sessionmaker() as s:
            await s.execute(update(FeedPoller).where(*self._mine()).values(last_error=error)
                            .execution_options(synchronize_session=False))
            await s.commit()

    async def run(self) -> None:
        """With IDLE: stay connected, check after every wait. Without: connect every `poll_s` seconds,
        check, log out (no connection held idle for the server to time out). Waits are cut into
        pieces of at most a third of the lease, which is renewed between them."""
        loop = asyncio.get_running_loop()
        backoff, box, due = 1.0, None, 0.0
        step = self.runtime.lease_s / 3
        try:
            while await self._renew():
                try:
                    if loop.time() >= due:
                        if box is None:
                            box = self.box = await self._open()
                            self.idle = box.idle
                        await self._process(box)
                        await self._record(None)
                        backoff = 1.0
                        if not box.idle:
                            due = loop.time() + self.poll_s
                            await box.close()
                            box = self.box = None
                    if box is not None:
                        await box.wait(min(self.poll_s, step))
                    else:
                        await asyncio.sleep(max(0.0, min(due - loop.time(), step)))
                    continue
                except _LostLease:
                    return
                except NodeError as exc:
                    await self._record(exc.message)
                except (OSError, asyncio.TimeoutError) as exc:
                    await self._record(f"connection to the IMAP server lost: {type(exc).__name__}")
                except Exception as exc:  # noqa: BLE001 - a mailbox never breaks the app
                    log.exception("mail watcher %s failed", self.poller.id)
                    await self._record(f"unexpected error: {type(exc).__name__}")
                if box is not None:
                    await box.close()
                    box = self.box = None
                await asyncio.sleep(min(backoff, self.poll_s, step))
                backoff *= 2
        finally:
            if box is not None:
                await box.close()

    async def _open(self) -> Mailbox:
        credential = (self.poller.config or {}).get("credential")
        if not credential:
            raise NodeConfigError("choose an IMAP credential", pointer="/credential")
        nodes = self.runtime.state.node_services.nodes
        resolved = await nodes.credentials.resolve(self.poller.tenant_id, str(credential), ("imap",))
        return await open_mailbox(resolved.fields, self.mailbox, self.runtime.http.allowed_hosts)

    async def _process(self, box: Mailbox) -> None:
        if self.state.get("uidvalidity") != box.uidvalidity:
            if self.state.get("uidvalidity") is not None:
                log.warning("mailbox %r of poller %s was re-created (UIDVALIDITY %s -> %s): its messages are taken "
                            "as seen", self.mailbox, self.poller.id, self.state.get("uidvalidity"), box.uidvalidity)
            last = box.uidnext - 1 if box.uidnext else max(await box.new_uids(0), default=0)
            await self._advance({"uidvalidity": box.uidvalidity, "last_uid": last})
        for uid in await box.new_uids(int(self.state.get("last_uid") or 0)):
            payload, attachments = parse_message(await box.fetch(uid))
            await self._start(uid, payload, attachments)

    async def _advance(self, state: dict[str, Any], s: Any = None) -> None:
        own = s is None
        if own:
            s = self.db.sessionmaker()
        try:
            done = await s.execute(update(FeedPoller).where(*self._mine()).values(state=state)
                                   .execution_options(synchronize_session=False))
            if done.rowcount != 1:
                await s.rollback()
                raise _LostLease()
            if own:
                await s.commit()
            self.state = state
        finally:
            if own:
                await s.close()

    async def _start(self, uid: int, payload: dict[str, Any], attachments: list[Any]) -> None:
        p = self.poller
        async with self.db.sessionmaker() as s:
            refs = []
            for a in attachments:
                row = MailAttachment(id=new_id(), tenant_id=p.tenant_id, workflow_id=p.workflow_id,
                                     message_id=payload["message_id"], filename=a.name, content_type=a.content_type,
                                     size=len(a.data), data=a.data, created_at=utcnow())
                s.add(row)
                refs.append({"name": a.name, "content_type": a.content_type, "size": len(a.data), "ref": row.id,
                             "url": f"/api/workflows/{p.workflow_id}/attachments/{row.id}"})
            payload.update(attachments=refs, uid=uid, mailbox=self.mailbox)
            before = dict(self.state)
            await self._advance({**before, "last_uid": uid}, s)   # committed with the run's row by start_run
            try:
                run = await start_triggered_run(self.runtime.state, s, tenant_id=p.tenant_id, user_id=p.created_by,
                                                workflow_id=p.workflow_id, source="published", payload=payload,
                                                trigger="imap")
            except ApiError as exc:
                await s.rollback()
                self.state = before
                raise NodeTemporaryError(f"could not start a run: {exc.detail}") from None
            await s.execute(update(FeedPoller).where(FeedPoller.id == p.id).values(last_run_id=run.id)
                            .execution_options(synchronize_session=False))
            if refs:   # the attachments go with the run (run retention)
                await s.execute(update(MailAttachment).where(MailAttachment.id.in_([r["ref"] for r in refs]))
                                .values(run_id=run.id).execution_options(synchronize_session=False))
            await s.commit()
