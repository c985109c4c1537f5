"""The nightly backup's engine: a consistent SQLite copy while the hub writes, a pg_dump that restores into a new
database, retention, and the ``backup:`` section's validation. The schedule and ``gatehouse backup`` are in
test_backup_cli.py."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import threading
from pathlib import Path

import asyncpg
import pytest
import voluptuous as vol
from sqlalchemy.engine import make_url

from hub.store import backup
from hub.store.backup import (
    BACKUP_SCHEMA,
    BackupError,
    backup_path,
    list_backups,
    prune_backups,
    run_backup,
)
from hub.store.database import Database
from hub.testing import wait_for

from .backup_support import connect, ids, make_sqlite, postgres_url

__all__ = ["postgres_url"]


# ------------------------------------------------------------------------------------------ SQLite


async def test_sqlite_backup_is_a_consistent_copy_while_a_writer_commits(tmp_path: Path) -> None:
    live = tmp_path / "gatehouse.db"
    make_sqlite(live, 20_000)
    stop = threading.Event()
    committed: list[int] = []

    def writer() -> None:  # another connection committing one row at a time, as the recorder does
        connection = sqlite3.connect(live, timeout=30)
        try:
            while not stop.is_set():
                cursor = connection.execute("INSERT INTO ticks (payload) VALUES ('live')")
                connection.commit()
                committed.append(int(cursor.lastrowid or 0))
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        await wait_for(lambda: len(committed) >= 20)
        before = committed[-1]
        result = await run_backup(f"sqlite+aiosqlite:///{live}", tmp_path / "backups", keep=7)
        await wait_for(lambda: len(committed) >= 40)  # the writer was never blocked for good
    finally:
        stop.set()
        thread.join()

    assert result.path.parent == tmp_path / "backups"
    assert backup.BACKUP_NAME.match(result.path.name) and result.path.suffix == ".db"
    assert result.size == result.path.stat().st_size > 20_000 * 200
    copied = ids(result.path)
    assert copied == list(range(1, len(copied) + 1))  # a snapshot: every row up to one point, no holes
    assert len(copied) >= before  # everything committed before the backup began is in it
    assert len(copied) < committed[-1]  # and the rows written after it are not, in the copy or half
    check = sqlite3.connect(result.path)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one self-contained file
    finally:
        check.close()
    assert not list((tmp_path / "backups").glob("*.partial"))


async def test_backup_of_a_migrated_hub_database_opens_with_its_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gatehouse.db'}"
    database = Database(url)
    await database.start()
    try:
        result = await run_backup(url, tmp_path / "backups")
    finally:
        await database.close()
    connection = sqlite3.connect(result.path)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        connection.close()
    assert {"alembic_version", "states", "events", "tenants"} <= tables
    assert revision


async def test_missing_or_in_memory_sqlite_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no database file at"):
        await run_backup(f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}", tmp_path / "backups")
    with pytest.raises(BackupError, match="in memory"):
        await run_backup("sqlite+aiosqlite:///:memory:", tmp_path / "backups")
    assert list_backups(tmp_path / "backups") == []


# ------------------------------------------------------------------------------------------ PostgreSQL


async def test_postgres_dump_restores_into_a_new_database(postgres_url: str, tmp_path: Path) -> None:
    connection = await connect(postgres_url)
    try:
        await connection.execute("CREATE TABLE visits (id serial PRIMARY KEY, who text NOT NULL)")
        await connection.executemany("INSERT INTO visits (who) VALUES ($1)", [(f"visitor {i}",) for i in range(500)])
    finally:
        await connection.close()

    result = await run_backup(postgres_url, tmp_path / "backups", keep=7)

    assert result.path.suffix == ".dump" and result.path.read_bytes()[:5] == b"PGDMP"  # custom format
    restored = f"{postgres_url}_restored"
    parsed = make_url(restored)
    admin = await asyncpg.connect(host=parsed.host, port=parsed.port, user="postgres", database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()
    pg_restore = backup.find_postgres_tool("pg_restore")
    assert pg_restore is not None
    command = [str(pg_restore), "--no-owner", "--host", str(parsed.host), "--port", str(parsed.port)]
    command += ["--username", "postgres", "--dbname", str(parsed.database), str(result.path)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    connection = await connect(restored)
    try:
        count = await connection.fetchval("SELECT count(*) FROM visits")
        last = await connection.fetchval("SELECT who FROM visits ORDER BY id DESC LIMIT 1")
    finally:
        await connection.close()
    assert (count, last) == (500, "visitor 499")


async def test_postgres_failure_names_the_problem_but_never_the_password(postgres_url: str, tmp_path: Path) -> None:
    parsed = make_url(postgres_url)
    url = parsed.set(password="s3cret-pass", database="no_such_database").render_as_string(hide_password=False)
    with pytest.raises(BackupError) as raised:
        await run_backup(url, tmp_path / "backups")
    message = str(raised.value)
    assert "pg_dump" in message and "no_such_database" in message
    assert "s3cret-pass" not in message and "***" in message
    assert list_backups(tmp_path / "backups") == []
    assert not list((tmp_path / "backups").iterdir())  # no .partial left behind


def test_libpq_connection_puts_the_password_in_the_environment_only() -> None:
    arguments, environment = backup.libpq_connection("postgresql+asyncpg://hub:p%40ss@db.example:6543/gatehouse")
    assert arguments == ["--host", "db.example", "--port", "6543", "--username", "hub", "--dbname", "gatehouse"]
    assert environment == {"PGPASSWORD": "p@ss"}
    assert not any("p@ss" in argument for argument in arguments)


async def test_missing_pg_dump_is_a_clear_error(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(backup, "POSTGRES_LIB", tmp_path / "no-postgresql")
    with pytest.raises(BackupError, match=r"pg_dump was not found .*install the PostgreSQL client"):
        await run_backup(postgres_url, tmp_path / "backups")


# ------------------------------------------------------------------------------------------ retention


def test_retention_keeps_the_newest_backups_and_ignores_other_files(tmp_path: Path) -> None:
    start = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
    for day in range(10):
        backup_path(tmp_path, ".db", start + dt.timedelta(days=day)).write_bytes(b"db")
    same_second = backup_path(tmp_path, ".dump", start + dt.timedelta(days=9))  # a second one that second
    same_second.write_bytes(b"dump")
    (tmp_path / "gatehouse-20260101-000000.db.partial").write_bytes(b"half")
    (tmp_path / "notes.txt").write_text("mine")

    removed = prune_backups(tmp_path, keep=3)

    kept = [path.name for path in list_backups(tmp_path)]
    assert same_second.name == "gatehouse-20261110-020000-2.dump"
    assert kept == [same_second.name, "gatehouse-20261110-020000.db", "gatehouse-20261109-020000.db"]
    assert len(removed) == 8 and all(not path.exists() for path in removed)
    assert (tmp_path / "notes.txt").exists() and (tmp_path / "gatehouse-20260101-000000.db.partial").exists()


async def test_each_run_applies_the_retention(tmp_path: Path) -> None:
    live = tmp_path / "gatehouse.db"
    make_sqlite(live, 10)
    results = [await run_backup(f"sqlite:///{live}", tmp_path / "backups", keep=2) for _ in range(4)]
    assert [path.name for path in list_backups(tmp_path / "backups")] == [r.path.name for r in results[:1:-1]]
    assert len(results[-1].removed) == 1


def test_the_backup_section_is_validated_field_by_field() -> None:
    assert BACKUP_SCHEMA(None) == {"at": dt.time(2, 0), "keep": 7, "path": "backups"}
    assert BACKUP_SCHEMA(False) is False
    assert BACKUP_SCHEMA({"at": "23:30", "keep": "3", "path": "/srv/backups"}) == {
        "at": dt.time(23, 30),
        "keep": 3,
        "path": "/srv/backups",
    }
    for bad, field in (({"at": "25:00"}, "at"), ({"keep": 0}, "keep"), ({"path": ""}, "path"), ({"every": 1}, "every")):
        with pytest.raises(vol.Invalid) as raised:
            BACKUP_SCHEMA(bad)
        assert [str(part) for part in raised.value.path] == [field]
    with pytest.raises(vol.Invalid, match="expected false, or a mapping"):
        BACKUP_SCHEMA("daily")
