"""Fixtures of the database node tests: scratch databases on the machine's real PostgreSQL and
MariaDB, the real Redis, credentials for them, a TCP forwarder that starts listening on cue, and
a helper that runs one node through the engine."""

from __future__ import annotations

import asyncio
import secrets
import socket
from datetime import datetime, timezone
from typing import Any

import aiomysql
import asyncpg
import pytest
import redis.asyncio as aioredis

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.credentials import MemoryCredentials, ResolvedCredential
from nodes.net import SafeHttpClient
from nodes.registry import default_registry
from nodes.services import NodeServices
from tests.flows.fakes import edge, graph, node

HOST = "127.0.0.1"
PG_PORT, MY_PORT, REDIS_PORT = 5432, 3306, 6379
PASSWORD = "pw-MARKER-" + secrets.token_hex(6)   # a secret that must never show in an output or error


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def credential(type_: str, **fields: Any) -> ResolvedCredential:
    return ResolvedCredential("c1", type_, {"host": HOST, **fields}, ("password",))


@pytest.fixture(scope="module")
async def pg_db():
    """A scratch PostgreSQL database with a table `items(id, name, price)` of 5 rows."""
    name = "maily_dbnodes_" + secrets.token_hex(4)
    admin = await asyncpg.connect(host=HOST, port=PG_PORT, user="postgres", database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(host=HOST, port=PG_PORT, user="postgres", database=name)
    await conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2), meta jsonb)")
    await conn.executemany("INSERT INTO items VALUES ($1, $2, $3, $4)",
                           [(i, f"item {i}", f"{i}.50", f'{{"n": {i}}}') for i in range(1, 6)])
    await conn.close()
    yield name
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="module")
async def my_db():
    """A scratch MariaDB database with `items(id, name, price)` of 5 rows, and a user (its name)
    whose password is PASSWORD."""
    name = "maily_dbnodes_" + secrets.token_hex(4)
    conn = await aiomysql.connect(host=HOST, port=MY_PORT, user="root", autocommit=True)
    async with conn.cursor() as cur:
        await cur.execute(f"CREATE DATABASE `{name}`")
        await cur.execute(f"CREATE TABLE `{name}`.items (id int PRIMARY KEY, name text, price decimal(8,2))")
        await cur.executemany(f"INSERT INTO `{name}`.items VALUES (%s, %s, %s)",
                              [(i, f"item {i}", f"{i}.50") for i in range(1, 6)])
        await cur.execute(f"CREATE USER '{name}'@'%%' IDENTIFIED BY %s", (PASSWORD,))
        await cur.execute(f"GRANT ALL ON `{name}`.* TO '{name}'@'%'")
    yield name
    async with conn.cursor() as cur:
        await cur.execute(f"DROP USER '{name}'@'%'")
        await cur.execute(f"DROP DATABASE `{name}`")
    conn.close()


@pytest.fixture
async def redis_user():
    """A Redis ACL user (its name) with password PASSWORD, removed afterwards."""
    name = "maily_dbnodes_" + secrets.token_hex(4)
    admin = aioredis.Redis(host=HOST, port=REDIS_PORT)
    await admin.acl_setuser(name, enabled=True, passwords=[f"+{PASSWORD}"], keys=["*"], channels=["*"],
                            commands=["+@all"])
    yield name
    await admin.acl_deluser(name)
    await admin.aclose()


@pytest.fixture
async def redis_admin():
    client = aioredis.Redis(host=HOST, port=REDIS_PORT)
    yield client
    await client.aclose()


@pytest.fixture
def db_ctx(make_ctx, loopback_client):
    """A NodeContext whose vault holds `cred` and whose allow-list lets 127.0.0.1 through."""

    def make(cred: ResolvedCredential):
        return make_ctx(http=loopback_client, services={"credentials": MemoryCredentials({cred.id: cred})})

    return make


class Forwarder:
    """A TCP port that refuses connections until `start()`, then forwards each one to `target`."""

    def __init__(self, target_port: int):
        self.port = free_port()
        self.target_port = target_port
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self._pipe, HOST, self.port)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(HOST, self.target_port)

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


class StartOnSleep:
    """A clock whose first sleep (the engine's retry delay) starts the forwarder, so the first
    attempt meets a closed port and the retry a real server; sleeps are recorded, not slept."""

    def __init__(self, forwarder: Forwarder):
        self.forwarder = forwarder
        self.slept: list[float] = []

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self.forwarder.start()


@pytest.fixture
async def forwarder_to():
    made: list[Forwarder] = []

    def make(port: int) -> Forwarder:
        made.append(Forwarder(port))
        return made[-1]

    yield make
    for f in made:
        await f.stop()


class Collect:
    def __init__(self):
        self.events: list[Any] = []

    def emit(self, event) -> None:
        self.events.append(event)


async def run_node(type_: str, config: dict[str, Any], cred: ResolvedCredential, clock: Any = None):
    """Runs trigger.manual -> `type_` through the engine; (outcome, events)."""
    doc = graph([node("start", "trigger.manual"), node("db", type_, credential=cred.id, **config)],
                [edge("start", "db")])
    client = SafeHttpClient(allowed_hosts=frozenset({HOST}), timeout_s=5)
    sink = Collect()
    services = Services(http=client, nodes=NodeServices.in_memory(credentials=MemoryCredentials({cred.id: cred})),
                        **({"clock": clock} if clock else {}))
    try:
        outcome = await Engine(services).run(compile_graph(doc, default_registry()), "r1", {}, Emitter("r1", [sink]))
    finally:
        await client.aclose()
    return outcome, sink.events


def retries_of(events: list[Any]) -> list[Any]:
    return [e for e in events if e.kind == "node.retrying"]
