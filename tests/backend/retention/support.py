"""Rows for the retention tests, written straight into the database with chosen ages."""

from __future__ import annotations

from datetime import timedelta

from backend.certify.models import Certificate
from backend.db.models import NodeRun, Run, RunEvent, Workflow, new_id, utcnow
from backend.db.session import Database
from backend.email.models import EmailOutboxMessage


async def make_workflow(db: Database, tenant_id: str) -> str:
    async with db.sessionmaker() as s, s.begin():
        wf = Workflow(id=new_id(), tenant_id=tenant_id, name="kept", graph={"nodes": [], "edges": []})
        s.add(wf)
    return wf.id


async def make_run(db: Database, tenant_id: str, *, days_old: float, status: str = "succeeded",
                   workflow_id: str | None = None, retry_of: str | None = None, certified: bool = False,
                   outbox: bool = False, output: dict | None = None, error: dict | None = None) -> str:
    """A run `days_old` days old with two node runs and three events (and an outbox message or a
    certificate naming it when asked)."""
    at = utcnow() - timedelta(days=days_old)
    run_id = new_id()
    async with db.sessionmaker() as s, s.begin():
        s.add(Run(id=run_id, tenant_id=tenant_id, workflow_id=workflow_id, status=status, trigger="api", input={},
                  output=output, error=error, graph={"nodes": [], "edges": []}, created_at=at, started_at=at,
                  finished_at=at if status in ("succeeded", "failed", "cancelled") else None, retry_of=retry_of,
                  root_run_id=run_id))
        await s.flush()
        for node in ("start", "send"):
            s.add(NodeRun(run_id=run_id, tenant_id=tenant_id, node_id=node, node_type="data.set", status="succeeded",
                          output={"output": {"node": node}}, started_at=at, finished_at=at))
        for seq, kind in enumerate(("run.started", "node.succeeded", "run.succeeded"), 1):
            s.add(RunEvent(run_id=run_id, seq=seq, kind=kind, at=at, data={}))
        if outbox:
            s.add(EmailOutboxMessage(tenant_id=tenant_id, run_id=run_id, node_id="send", key=f"k-{run_id}",
                                     message_id=f"<{run_id}@test>", sender="a@test", recipient="b@test",
                                     subject="hi", raw="", created_at=at))
        if certified:
            s.add(Certificate(id=new_id(), tenant_id=tenant_id, run_id=run_id, document={}, created_at=at))
    return run_id
