"""Durable storage of the shared documents, in our own database (one pool: `Database`).

`workflow_docs` holds one compacted state per workflow (a v1 update with the whole history
the document needs: items and the delete set); `workflow_doc_updates` holds the updates
accepted since, appended in batches. The document is the state plus every update after it,
in any order (CRDT updates commute). `Workflow.graph` is kept in step on each write.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pycrdt import Doc, get_update, merge_updates
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.collab.models import WorkflowDoc, WorkflowDocUpdate
from backend.db.models import Workflow, utcnow


def build_doc(state: bytes | None, updates: list[bytes]) -> Doc:
    doc = Doc()
    if state:
        doc.apply_update(state)
    for update in updates:
        doc.apply_update(update)
    return doc


async def load(s: AsyncSession, workflow_id: str, lock: bool = False) -> tuple[bytes | None, list[tuple[int, bytes]]]:
    """The stored state (None: no document yet) and the (id, update) rows after it. `lock`: the
    state row stays locked until the transaction ends (compaction, below)."""
    query = sa.select(WorkflowDoc.state).where(WorkflowDoc.workflow_id == workflow_id)
    state = await s.scalar(query.with_for_update() if lock else query)
    rows = await s.execute(sa.select(WorkflowDocUpdate.id, WorkflowDocUpdate.update)
                           .where(WorkflowDocUpdate.workflow_id == workflow_id).order_by(WorkflowDocUpdate.id))
    return state, [(r.id, r.update) for r in rows]


async def load_doc(s: AsyncSession, workflow_id: str) -> Doc | None:
    state, rows = await load(s, workflow_id)
    if state is None and not rows:
        return None
    return build_doc(state, [u for _, u in rows])


async def save_state(s: AsyncSession, workflow_id: str, tenant_id: str, state: bytes) -> None:
    row = await s.get(WorkflowDoc, workflow_id)
    if row is None:
        s.add(WorkflowDoc(workflow_id=workflow_id, tenant_id=tenant_id, state=state))
        await s.flush()   # a duplicate (another replica's first open) fails here, inside the caller's savepoint
    else:
        row.state, row.updated_at = state, utcnow()


async def create_state(s: AsyncSession, workflow_id: str, tenant_id: str, state: bytes) -> bool:
    """Store a workflow's first document unless one is stored already (another replica's first
    open, committed at any moment before or during this one); False: the stored one stays and
    is the one to use. One statement: no read-then-write window in which another replica's
    document, with other items, could be overwritten."""
    inserted = await s.execute(insert(WorkflowDoc.__table__).values(
        workflow_id=workflow_id, tenant_id=tenant_id, state=state, updated_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["workflow_id"]).returning(WorkflowDoc.workflow_id))
    return inserted.first() is not None


async def set_graph(s: AsyncSession, workflow_id: str, graph: dict[str, Any]) -> None:
    await s.execute(sa.update(Workflow).where(Workflow.id == workflow_id).values(graph=graph, updated_at=utcnow()))


async def append(s: AsyncSession, workflow_id: str, update: bytes, graph: dict[str, Any] | None) -> None:
    """Store a batch of accepted updates (merged into one update: one row) and, when given,
    the draft JSON they give. A Core INSERT: no ORM unit of work on the event loop."""
    await s.execute(sa.insert(WorkflowDocUpdate.__table__).values(workflow_id=workflow_id, update=update,
                                                                  created_at=utcnow()))
    if graph is not None:
        await set_graph(s, workflow_id, graph)


async def compact(s: AsyncSession, workflow_id: str, tenant_id: str) -> int:
    """Fold the update rows into the state: load everything into a Doc, store what it holds plus
    what it could not integrate (`folded`), delete exactly the rows that were read (rows written
    meanwhile stay). Nothing is lost: the new state holds every item and deletion of the old
    ones, so a client with any older state vector still syncs. Two replicas compacting the same
    document take turns (the state row is locked): the second reads the first one's state, so
    neither overwrites a state holding rows the other deleted. Returns the number of rows folded in."""
    state, rows = await load(s, workflow_id, lock=True)
    if not rows:
        return 0
    updates = ([state] if state else []) + [u for _, u in rows]
    await save_state(s, workflow_id, tenant_id, folded(build_doc(None, updates), updates))
    await s.execute(sa.delete(WorkflowDocUpdate).where(WorkflowDocUpdate.id.in_([i for i, _ in rows])))
    return len(rows)


def folded(doc: Doc, updates: list[bytes]) -> bytes:
    """`updates`, which made `doc`, as one update. `doc.get_update()` alone leaves out what the
    Doc holds back as pending: items whose dependencies are in none of the updates, and
    deletions of items it has not seen (pycrdt encodes integrated content only). Those are added
    as they came (the part of the merged updates beyond the Doc's state vector, with every
    deletion), so they integrate whenever their dependencies arrive."""
    rest = get_update(merge_updates(*updates), doc.get_state())
    return merge_updates(doc.get_update(), rest)
