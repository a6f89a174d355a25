"""Removal reaches open sockets (issue 13: "a removed person's open co-editing sockets close
within a second"): from an owner's `DELETE /api/members/{user_id}` being sent to the removed
member's open co-editing socket (`/api/collab/{id}`) closing with 4401, p50 / p99 / max.

Baseline, in the same run and the same way: revoking an API token (`DELETE /api/auth/tokens/{id}`)
and that token's socket closing. Both revoke in the database, commit, then close the matching
sockets of this process (backend/auth/revocation.py). Target: p99 < 1 s.

The app is served by uvicorn in this process (as tests/backend/collab does); every member has
one socket open on the same workflow while the others are removed one at a time.

    .venv/bin/python -m bench.revocation [--quick] [--postgres]
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any, Awaitable, Callable

import httpx
import uvicorn
import websockets

from bench.common import Options, Summary, database, free_port, main, ms, now, percentile, ratio, show

TARGET_S = 1.0



async def _people(db: Any, n: int) -> tuple[str, str, list[tuple[str, str, str]]]:
    """A workspace with an owner (its API token) and n editors; (tenant id, owner token,
    [(user id, token id, token)])."""
    from backend.auth import services as auth

    tag = secrets.token_hex(4)
    out = []
    async with db.sessionmaker() as s, s.begin():
        tenant = await auth.create_tenant(s, f"Bench revocation {tag}", f"revocation-{tag}")
        owner = await auth.create_user(s, f"owner-{tag}@bench.test", f"pw-{tag}-owner", name="Owner")
        await auth.add_member(s, tenant.id, owner.id, "owner")
        _, owner_token = await auth.create_api_token(s, tenant.id, owner.id, "owner")
        for i in range(n):
            user = await auth.create_user(s, f"editor{i}-{tag}@bench.test", f"pw-{tag}-{i}", name=f"Editor {i}")
            await auth.add_member(s, tenant.id, user.id, "editor")
            row, token = await auth.create_api_token(s, tenant.id, user.id, f"editor {i}")
            out.append((user.id, row.id, token))
    return tenant.id, owner_token, out


async def _closed(ws: Any, timeout: float = 10) -> int | None:
    """Reads until the server closes the socket; its close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed:
        return ws.close_code


async def _round(base: str, tokens: list[str], revoke: Callable[[int], Awaitable[int]]) -> list[float]:
    """Opens a socket per token, then revokes them one by one: seconds from the revoking request
    being sent to its socket closed with 4401, per socket."""
    sockets = [await websockets.connect(base + t, max_size=None) for t in tokens]
    try:
        for ws in sockets:
            await ws.recv()  # joined: the server's first sync message
        out = []
        for i, ws in enumerate(sockets):
            t0 = now()
            waiting = asyncio.create_task(_closed(ws))
            status = await revoke(i)
            assert status == 204, status
            code = await waiting
            out.append(now() - t0)
            assert code == 4401, code
        return out
    finally:
        for ws in sockets:
            await ws.close()


async def bench(opts: Options) -> list[Summary]:
    from backend.app import create_app
    from backend.db.session import Database
    from backend.settings import Settings

    n = 5 if opts.quick else 30
    print(f"\nRevocation reaching open sockets: {n} removed members, {n} revoked tokens ({opts.backend})", flush=True)
    async with database(opts, "revocation") as url:
        db = Database(url)
        settings = Settings(database_url=url, data_dir=opts.workdir / "revocation-data", secret_key="bench-secret",
                            prefect="never", prefect_at_start=False)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="on", ws="websockets-sansio", ws_per_message_deflate=False))
        task = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
            tenant_id, owner_token, members = await _people(db, n)
            owner = {"Authorization": f"Bearer {owner_token}"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
                r = await c.post("/api/workflows", json={"name": "revocation"}, headers=owner)
                assert r.status_code == 201, r.text
                base = f"ws://127.0.0.1:{port}/api/collab/{r.json()['id']}?token="

                # baseline: each member's own second token, revoked by its owner
                extra = []
                for user_id, _, token in members:
                    r = await c.post("/api/auth/tokens", json={"name": "second"},
                                     headers={"Authorization": f"Bearer {token}"})
                    assert r.status_code == 201, r.text
                    extra.append((token, r.json()["id"], r.json()["token"]))

                async def revoke_token(i: int) -> int:
                    own, token_id, _ = extra[i]
                    return (await c.delete(f"/api/auth/tokens/{token_id}",
                                           headers={"Authorization": f"Bearer {own}"})).status_code

                async def remove_member(i: int) -> int:
                    return (await c.delete(f"/api/members/{members[i][0]}", headers=owner)).status_code

                tokens = await _round(base, [t for _, _, t in extra], revoke_token)
                removals = await _round(base, [t for _, _, t in members], remove_member)
        finally:
            server.should_exit = True
            await task
            await db.dispose()

    rows = [[what, ms(percentile(xs, 50)), ms(percentile(xs, 99)), ms(max(xs))]
            for what, xs in (("member removed (DELETE /api/members/{id})", removals),
                             ("token revoked (DELETE /api/auth/tokens/{id}), baseline", tokens))]
    show("Request sent -> the socket closed with 4401", ["revocation", "p50", "p99", "max"], rows)
    p99, base99 = percentile(removals, 99), percentile(tokens, 99)
    return [Summary("revocation", "removed member's socket closed, p99", ms(p99), ms(base99), ratio(p99, base99),
                    f"< {ms(TARGET_S)}", p99 < TARGET_S)]


if __name__ == "__main__":
    main(bench, __doc__ or "")
