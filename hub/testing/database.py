"""Pytest fixtures for real databases: a throwaway PostgreSQL cluster per session, a fresh database per test.

Tests that take ``database_url`` or ``database`` run twice, on SQLite and on PostgreSQL, because the hub
promises both. Without PostgreSQL binaries the PostgreSQL half is skipped, except under CI (env ``CI``),
where a missing server is a broken runner and fails loudly.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hub.store.database import Database
from hub.store.models import Base

POSTGRES_VERSION = "15"
DATABASE_KINDS = ["sqlite", "postgresql"]


def find_postgres_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: Debian's versioned path, ``pg_config``, or PATH."""
    candidates = [Path(f"/usr/lib/postgresql/{POSTGRES_VERSION}/bin")]
    if pg_config := shutil.which("pg_config"):
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """A PostgreSQL cluster in a temporary directory, on loopback, trusting the ``postgres`` user.

    initdb refuses to run as root, so as root every server command runs as the ``postgres`` system user.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="gatehouse-pg-"))  # /tmp: reachable by the postgres user
        self.data_dir = self.root / "data"
        self.port = 0
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        """The server's URL without a database name (append ``/name``)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def start(self) -> None:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        result = self._run("initdb", "-D", str(self.data_dir), "-A", "trust", "-U", "postgres", "--no-sync")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr or result.stdout}")
        for _attempt in range(3):  # the free port may be taken between choosing and binding it
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
                " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            log = str(self.root / "server.log")
            result = self._run("pg_ctl", "-D", str(self.data_dir), "-l", log, "-w", "-o", options, "start")
            if result.returncode == 0:
                return
        raise RuntimeError(f"pg_ctl start failed: {result.stderr or result.stdout}\n{self.server_log()}")

    def server_log(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL 15 server for the test session; yields its URL without a database name."""
    bindir = find_postgres_bindir()
    if bindir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/15/bin or PATH"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so PostgreSQL tests must run", pytrace=False)
        pytest.skip(reason)
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
    except Exception:
        cluster.stop()
        raise
    try:
        yield cluster.url
    finally:
        cluster.stop()


async def _admin_execute(server_url: str, sql: str) -> None:
    """Run one statement on the maintenance database, outside any transaction (CREATE/DROP DATABASE)."""
    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database="postgres"
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest_asyncio.fixture(params=DATABASE_KINDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'gatehouse.db'}"
        return
    server_url: str = request.getfixturevalue("postgres_cluster")
    name = f"test_{uuid.uuid4().hex}"
    await _admin_execute(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url}/{name}"
    finally:
        await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A started (migrated) Database on ``database_url``, closed after the test."""
    db = Database(database_url)
    await db.start()
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def database_outage(url: str) -> AsyncIterator[None]:
    """Make the database at ``url`` refuse the hub's writes until the block ends (a real outage, not a mock).

    PostgreSQL: the database stops accepting connections and its open connections are terminated.
    SQLite: another connection holds the write lock, so writers fail after their busy timeout (``?timeout=``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        blocker = sqlite3.connect(str(parsed.database), isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            yield
        finally:
            blocker.close()
        return
    server_url = parsed.set(database=None).render_as_string(hide_password=False)
    name = parsed.database
    await _admin_execute(server_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    await _admin_execute(
        server_url,
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    try:
        yield
    finally:
        await _admin_execute(server_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


async def count_rows(database: Database, table: str) -> int:
    """How many rows ``table`` holds: what tests assert after the recorder or a registry wrote."""
    async with database.engine.connect() as connection:
        result = await connection.execute(select(func.count()).select_from(Base.metadata.tables[table]))
        return int(result.scalar_one())
