"""/api/credentials: the REST contract, the role matrix, problem documents and the audit trail,
On PostgreSQL. A marker secret is checked against every response."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditEvent
from backend.credentials.envelope import Keyring
from backend.credentials.models import Credential
from backend.credentials.services import open_values
from tests.backend.conftest import assert_problem
from tests.backend.credentials.bearer_node import graph

MARKER = "mk-" + secrets.token_hex(16)


async def _create(client, member, name="github", type_="bearer", data=None):
    r = await client.post("/api/credentials", json={"name": name, "type": type_, "data": data or {"token": MARKER}},
                          headers=member.headers)
    assert r.status_code == 201, r.text
    assert MARKER not in r.text
    return r.json()


class TestCreateAndRead:
    async def test_create_answers_the_public_fields_only(self, client, tenant_a):
        """201 {id, name, type, fields, created_at}: the secret field is in neither the answer nor `fields`."""
        out = await _create(client, tenant_a.editor, type_="basic", data={"username": "ada", "password": MARKER})
        assert {"id", "name", "type", "fields", "created_at"} <= set(out)
        assert out["type"] == "basic" and out["fields"] == {"username": "ada"}

    async def test_get_one_says_who_created_it_and_where_it_is_used(self, client, tenant_a):
        """GET one: non-secret fields, created_by, updated_at and used_by (empty while nothing uses it)."""
        out = await _create(client, tenant_a.owner, type_="header", data={"name": "X-Api-Key", "value": MARKER})
        r = await client.get(f"/api/credentials/{out['id']}", headers=tenant_a.editor.headers)
        assert r.status_code == 200 and MARKER not in r.text
        body = r.json()
        assert body["fields"] == {"name": "X-Api-Key"} and body["created_by"] == tenant_a.owner.user_id
        assert body["used_by"] == [] and body["updated_at"]

    async def test_the_stored_row_holds_no_plaintext_secret(self, client, db, tenant_a):
        """The database row carries ciphertext only: the marker is in no column."""
        out = await _create(client, tenant_a.owner)
        async with db.sessionmaker() as s:
            row = await s.get(Credential, out["id"])
        assert all(MARKER not in str(v) for v in (row.fields, row.secret, row.wrapped_key, row.key_version, row.name))
        assert row.secret.startswith("v1:") and row.wrapped_key.startswith("v1:")

    async def test_types_describe_every_type_with_its_secret_fields(self, client, tenant_a):
        """GET /types lists each vault type; secret fields are marked, server-managed ones left out."""
        r = await client.get("/api/credentials/types", headers=tenant_a.viewer.headers)
        types = {t["type"]: t for t in r.json()}
        assert set(types) >= {"bearer", "basic", "header", "query", "oauth2", "smtp", "postgres", "mysql",
                              "ai_provider", "email_provider"}
        token = types["bearer"]["fields"][0]
        assert token == {"name": "token", "secret": True, "required": True, "kind": "string", "options": None,
                         "default": None}
        oauth = {f["name"] for f in types["oauth2"]["fields"]}
        assert "client_secret" in oauth and "access_token" not in oauth and "refresh_token" not in oauth
        assert {f["name"]: f["kind"] for f in types["smtp"]["fields"]}["port"] == "integer"


class TestRoles:
    async def test_viewers_see_names_and_types_only(self, client, tenant_a):
        """A viewer's list and GET carry no fields; an editor's do."""
        out = await _create(client, tenant_a.owner, type_="basic", data={"username": "ada", "password": MARKER})
        viewer = [c for c in (await client.get("/api/credentials", headers=tenant_a.viewer.headers)).json()
                  if c["id"] == out["id"]]
        assert viewer[0]["name"] == "github" and viewer[0]["type"] == "basic" and viewer[0]["fields"] is None
        one = (await client.get(f"/api/credentials/{out['id']}", headers=tenant_a.viewer.headers)).json()
        assert one["fields"] is None
        editor = (await client.get("/api/credentials", headers=tenant_a.editor.headers)).json()
        assert [c["fields"] for c in editor if c["id"] == out["id"]] == [{"username": "ada"}]

    async def test_viewers_change_nothing(self, client, tenant_a):
        """Create, patch, delete and test are 403 for a viewer."""
        out = await _create(client, tenant_a.owner)
        h, cid = tenant_a.viewer.headers, out["id"]
        for r in [await client.post("/api/credentials", json={"name": "x", "type": "bearer", "data": {"token": "t"}}, headers=h),
                  await client.patch(f"/api/credentials/{cid}", json={"name": "y"}, headers=h),
                  await client.delete(f"/api/credentials/{cid}", headers=h),
                  await client.post(f"/api/credentials/{cid}/test", json={}, headers=h)]:
            assert_problem(r, 403)

    async def test_a_read_only_token_only_reads(self, client, tenant_a):
        """An owner's read-only API token lists credentials but cannot create or delete one."""
        out = await _create(client, tenant_a.owner)
        ro = (await client.post("/api/auth/tokens", json={"name": "ro", "read_only": True},
                                headers=tenant_a.owner.headers)).json()
        h = {"Authorization": f"Bearer {ro['token']}"}
        assert (await client.get("/api/credentials", headers=h)).status_code == 200
        assert_problem(await client.post("/api/credentials", json={"name": "x", "type": "bearer",
                                                                   "data": {"token": "t"}}, headers=h), 403)
        assert_problem(await client.delete(f"/api/credentials/{out['id']}", headers=h), 403)

    async def test_anonymous_is_401(self, client):
        """No token, no credentials."""
        assert_problem(await client.get("/api/credentials"), 401)


class TestProblems:
    @pytest.mark.parametrize(("body", "field"), [
        ({"name": "x", "type": "telepathy", "data": {}}, "type"),
        ({"name": "x", "type": "bearer", "data": {}}, "data.token"),
        ({"name": "x", "type": "basic", "data": {"password": "p"}}, "data.username"),
        ({"name": "x", "type": "bearer", "data": {"token": "t", "extra": 1}}, "data.extra"),
        ({"name": "x", "type": "smtp", "data": {"host": "h", "port": 70000}}, "data.port"),
        ({"name": "x", "type": "oauth2", "data": {"grant_type": "client_credentials", "client_id": "c",
                                                   "token_url": "https://t", "access_token": "forged"}}, "data.access_token"),
        ({"type": "bearer", "data": {"token": "t"}}, "name"),
    ])
    async def test_bad_input_is_422_naming_the_field(self, client, tenant_a, body, field):
        """An unknown type, a missing, extra, out-of-range or server-managed field: 422 naming it."""
        doc = assert_problem(await client.post("/api/credentials", json=body, headers=tenant_a.editor.headers), 422)
        assert doc["field"] == field and field in doc["detail"]

    async def test_another_workspaces_credential_is_404(self, client, tenant_a, tenant_b):
        """Every path with tenant B's id answers 404 to tenant A's owner; so does a junk id."""
        theirs = await _create(client, tenant_b.owner)
        h = tenant_a.owner.headers
        for cid in (theirs["id"], "not-an-id%00"):
            path = f"/api/credentials/{cid}"
            assert_problem(await client.get(path, headers=h), 404)
            assert_problem(await client.patch(path, json={"name": "mine"}, headers=h), 404)
            assert_problem(await client.delete(path, headers=h), 404)
            assert_problem(await client.post(path + "/test", json={}, headers=h), 404)
        assert theirs["id"] not in {c["id"] for c in (await client.get("/api/credentials", headers=h)).json()}

    async def test_a_duplicate_name_is_409(self, client, tenant_a, tenant_b):
        """Names are unique per workspace (another workspace may use the same one)."""
        await _create(client, tenant_a.owner, name="stripe")
        await _create(client, tenant_b.owner, name="stripe")
        r = await client.post("/api/credentials", json={"name": "stripe", "type": "bearer", "data": {"token": "t"}},
                              headers=tenant_a.editor.headers)
        assert assert_problem(r, 409)["field"] == "name"


class TestPatch:
    async def test_omitted_secret_fields_keep_their_value(self, client, db, app, tenant_a):
        """PATCH a public field and the name: the password is still the one set at creation."""
        out = await _create(client, tenant_a.editor, type_="basic", data={"username": "ada", "password": MARKER})
        r = await client.patch(f"/api/credentials/{out['id']}", json={"name": "renamed", "data": {"username": "bob"}},
                               headers=tenant_a.editor.headers)
        assert r.status_code == 200 and r.json()["name"] == "renamed" and r.json()["fields"] == {"username": "bob"}
        async with db.sessionmaker() as s:
            row = await s.get(Credential, out["id"])
        assert open_values(row, Keyring.from_settings(app.state.settings)) == {"username": "bob", "password": MARKER}

    async def test_a_given_secret_field_replaces_the_old_one(self, client, db, app, tenant_a):
        """PATCH data.token: the new token is stored, sealed under a new data key."""
        out = await _create(client, tenant_a.editor)
        async with db.sessionmaker() as s:
            before = (await s.get(Credential, out["id"])).wrapped_key
        r = await client.patch(f"/api/credentials/{out['id']}", json={"data": {"token": "new-" + MARKER}},
                               headers=tenant_a.owner.headers)
        assert r.status_code == 200 and MARKER not in r.text
        async with db.sessionmaker() as s:
            row = await s.get(Credential, out["id"])
        assert open_values(row, Keyring.from_settings(app.state.settings)) == {"token": "new-" + MARKER}
        assert row.wrapped_key != before

    async def test_patch_validates_like_create(self, client, tenant_a):
        """An emptied required secret is 422 naming data.token."""
        out = await _create(client, tenant_a.editor)
        r = await client.patch(f"/api/credentials/{out['id']}", json={"data": {"token": ""}}, headers=tenant_a.editor.headers)
        assert assert_problem(r, 422)["field"] == "data.token"


class TestDelete:
    async def test_deleting_a_credential_in_use_is_refused_with_the_workflows(self, client, tenant_a):
        """409 with used_by naming the workflow and node while its graph refers to the credential; 204 after."""
        out = await _create(client, tenant_a.owner)
        wf = (await client.post("/api/workflows", json={"name": "Nightly sync", "graph": graph(out["id"])},
                                headers=tenant_a.editor.headers)).json()
        doc = assert_problem(await client.delete(f"/api/credentials/{out['id']}", headers=tenant_a.owner.headers), 409)
        assert doc["used_by"] == [{"workflow_id": wf["id"], "workflow_name": "Nightly sync", "node_ids": ["call"]}]
        assert "Nightly sync" in doc["detail"]
        one = (await client.get(f"/api/credentials/{out['id']}", headers=tenant_a.viewer.headers)).json()
        assert one["used_by"] == doc["used_by"]
        r = await client.put(f"/api/workflows/{wf['id']}", json={"name": "Nightly sync", "graph": graph(None)},
                             headers=tenant_a.editor.headers)
        assert r.status_code == 200, r.text
        assert (await client.delete(f"/api/credentials/{out['id']}", headers=tenant_a.owner.headers)).status_code == 204
        assert_problem(await client.get(f"/api/credentials/{out['id']}", headers=tenant_a.owner.headers), 404)

    async def test_a_published_version_counts_as_use(self, client, tenant_a):
        """A credential gone from the draft but in a published version is still in use (409)."""
        out = await _create(client, tenant_a.owner)
        wf = (await client.post("/api/workflows", json={"name": "Published", "graph": graph(out["id"])},
                                headers=tenant_a.editor.headers)).json()
        assert (await client.post(f"/api/workflows/{wf['id']}/publish", headers=tenant_a.editor.headers)).status_code == 201
        await client.put(f"/api/workflows/{wf['id']}", json={"name": "Published", "graph": graph(None)},
                         headers=tenant_a.editor.headers)
        doc = assert_problem(await client.delete(f"/api/credentials/{out['id']}", headers=tenant_a.owner.headers), 409)
        assert [u["workflow_id"] for u in doc["used_by"]] == [wf["id"]]

    async def test_a_mention_outside_a_credential_field_is_no_use(self, client, tenant_a):
        """The id as plain text in another field does not block deletion."""
        out = await _create(client, tenant_a.owner)
        g = graph(None)
        g["nodes"][0]["config"] = {"sample": {"note": out["id"]}}
        r = await client.post("/api/workflows", json={"name": "mentions", "graph": g}, headers=tenant_a.editor.headers)
        assert r.status_code == 201, r.text
        assert (await client.delete(f"/api/credentials/{out['id']}", headers=tenant_a.editor.headers)).status_code == 204


class TestAudit:
    async def test_changes_are_audited_without_values(self, client, db, tenant_a):
        """create, update and delete each leave an audit row naming the credential, never the secret."""
        out = await _create(client, tenant_a.editor)
        await client.patch(f"/api/credentials/{out['id']}", json={"data": {"token": MARKER + "2"}},
                           headers=tenant_a.editor.headers)
        await client.delete(f"/api/credentials/{out['id']}", headers=tenant_a.owner.headers)
        async with db.sessionmaker() as s:
            rows = list(await s.scalars(sa.select(AuditEvent).where(AuditEvent.target_id == out["id"])
                                        .order_by(AuditEvent.at)))
        assert [r.action for r in rows] == ["credential.create", "credential.update", "credential.delete"]
        assert rows[1].details == {"name": "github", "changed": ["token"]}
        assert rows[0].actor_id == tenant_a.editor.user_id and rows[2].actor_id == tenant_a.owner.user_id
        assert all(MARKER not in str(r.details) for r in rows)
