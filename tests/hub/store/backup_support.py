"""What the backup tests share: SQLite files like the hub's, a database on the throwaway PostgreSQL cluster."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url


def make_sqlite(path: Path, rows: int) -> None:
    """A WAL database like the hub's, with ``rows`` rows of ~200 bytes (enough that a copy takes a moment)."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE ticks (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        connection.executemany("INSERT INTO ticks (payload) VALUES (?)", (("x" * 200,) for _ in range(rows)))
    connection.close()


def ids(path: Path) -> list[int]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT id FROM ticks ORDER BY id")]
    finally:
        connection.close()


@pytest.fixture
async def postgres_url(postgres_cluster: str) -> AsyncIterator[str]:
    """A new database on the throwaway cluster, dropped after the test (with any restored copies)."""
    server = make_url(postgres_cluster)

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(host=server.host, port=server.port, user="postgres", database="postgres")
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    name = f"backup_{uuid.uuid4().hex}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{postgres_cluster}/{name}"
    finally:
        for database in (name, f"{name}_restored"):
            await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database)
