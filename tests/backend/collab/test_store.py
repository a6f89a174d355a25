"""Durable storage of the shared documents (backend/collab/store.py) on PostgreSQL: the first
document of a workflow is stored once whoever races to store it, and compaction keeps what the
rebuilt document holds back as pending."""

from __future__ import annotations

import asyncio

from pycrdt import Doc, Map

from backend.collab import store
from backend.collab.convert import doc_from_graph, graph_from_doc
from backend.db.models import Workflow
from backend.seed import welcome_graph


async def _workflow(db, tenant) -> str:
    async with db.sessionmaker() as s, s.begin():
        wf = Workflow(tenant_id=tenant.id, name="stored", graph=welcome_graph())
        s.add(wf)
        await s.flush()
        return wf.id


async def _stored_state(db, workflow_id: str) -> bytes | None:
    async with db.sessionmaker() as s:
        state, _ = await store.load(s, workflow_id)
        return state


class TestCreateState:
    async def test_a_stored_first_document_is_never_replaced(self, db, tenant_a):
        """A second first document (another replica's, built from the same draft) is not stored
        over the one stored before it: everyone keeps using the first one's items."""
        wf = await _workflow(db, tenant_a)
        first, second = doc_from_graph(welcome_graph()).get_update(), doc_from_graph(welcome_graph()).get_update()
        async with db.sessionmaker() as s, s.begin():
            assert await store.create_state(s, wf, tenant_a.id, first) is True
        async with db.sessionmaker() as s, s.begin():
            assert await store.create_state(s, wf, tenant_a.id, second) is False
        assert await _stored_state(db, wf) == first

    async def test_a_first_document_racing_an_uncommitted_one_yields_to_it(self, db, tenant_a):
        """Two first opens at the same moment: the one that inserted first wins once it commits,
        and the other learns it lost (it waited for that commit instead of failing or overwriting)."""
        wf = await _workflow(db, tenant_a)
        first, second = doc_from_graph(welcome_graph()).get_update(), doc_from_graph(welcome_graph()).get_update()
        async with db.sessionmaker() as s1:
            async with s1.begin():
                assert await store.create_state(s1, wf, tenant_a.id, first) is True

                async def other() -> bool:
                    async with db.sessionmaker() as s2, s2.begin():
                        return await store.create_state(s2, wf, tenant_a.id, second)

                racing = asyncio.create_task(other())
                done, _ = await asyncio.wait({racing}, timeout=0.3)
                assert not done, "the second insert did not wait for the first transaction"
            assert await racing is False
        assert await _stored_state(db, wf) == first


class TestCompact:
    async def test_content_whose_dependencies_are_missing_survives_compaction(self, db, tenant_a):
        """A stored update whose dependencies are in no row, and a deletion of an item no row
        holds yet, are still in the document after compaction: they appear once the missing
        update arrives."""
        wf = await _workflow(db, tenant_a)
        author = Doc()
        nodes = author.get("nodes", type=Map)
        nodes["a"] = Map({"id": "a", "type": "data.set", "position": Map({"x": 0, "y": 0}), "config": Map()})
        nodes["gone"] = Map({"id": "gone", "type": "data.set", "position": Map({"x": 0, "y": 0}), "config": Map()})
        missing = author.get_update()
        before = author.get_state()
        nodes["a"]["label"] = "kept"
        del nodes["gone"]
        later = author.get_update(before)
        base = doc_from_graph({"nodes": [], "edges": []}).get_update()
        async with db.sessionmaker() as s, s.begin():
            assert await store.create_state(s, wf, tenant_a.id, base)
            await store.append(s, wf, later, None)
        async with db.sessionmaker() as s, s.begin():
            assert await store.compact(s, wf, tenant_a.id) == 1
        async with db.sessionmaker() as s, s.begin():
            await store.append(s, wf, missing, None)
            doc = await store.load_doc(s, wf)
        assert doc is not None
        assert [(n["id"], n.get("label")) for n in graph_from_doc(doc)["nodes"]] == [("a", "kept")]

    async def test_compaction_keeps_the_document(self, db, tenant_a):
        """Rows folded into the state give the same document as before, and leave no row."""
        wf = await _workflow(db, tenant_a)
        doc = doc_from_graph(welcome_graph())
        async with db.sessionmaker() as s, s.begin():
            assert await store.create_state(s, wf, tenant_a.id, doc.get_update())
            for i in range(3):
                before = doc.get_state()
                doc.get("nodes", type=Map)["big"]["label"] = f"v{i}"
                await store.append(s, wf, doc.get_update(before), None)
        async with db.sessionmaker() as s, s.begin():
            assert await store.compact(s, wf, tenant_a.id) == 3
        async with db.sessionmaker() as s:
            state, rows = await store.load(s, wf)
            assert rows == []
            assert graph_from_doc(await store.load_doc(s, wf)) == graph_from_doc(doc)
