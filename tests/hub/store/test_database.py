"""The Database: one engine per hub, migrated on start, SQLite tuned for a single busy writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from hub.store.database import Database, default_url
from hub.store.models import ConfigEntryRow, Tenant


def test_default_url_is_a_sqlite_file_in_the_config_dir(tmp_path: Path) -> None:
    assert default_url(tmp_path) == f"sqlite+aiosqlite:///{tmp_path.resolve()}/gatehouse.db"


async def test_sqlite_start_creates_the_folder_and_sets_wal_normal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there" / "gatehouse.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.start()
    try:
        assert path.is_file()
        assert database.dialect == "sqlite"
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await connection.execute(text("PRAGMA synchronous"))).scalar_one() == 1  # NORMAL
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await database.close()


async def test_dialect_names_the_backend(database: Database, database_url: str) -> None:
    assert database.dialect == ("sqlite" if database_url.startswith("sqlite") else "postgresql")


async def test_sessions_keep_objects_usable_after_commit(database: Database) -> None:
    async with database.session() as session:
        tenant = Tenant(id="t1", code="acme", name="Acme Security", created_at=1.0)
        session.add(tenant)
        await session.commit()
    # expire_on_commit=False: reading an attribute after the commit needs no database round trip.
    assert tenant.name == "Acme Security"
    async with database.session() as session:
        stored = (await session.execute(select(Tenant).where(Tenant.code == "acme"))).scalar_one()
    assert (stored.id, stored.name) == ("t1", "Acme Security")


async def test_foreign_keys_are_enforced(database: Database) -> None:
    async with database.session() as session:
        session.add(
            ConfigEntryRow(
                id="e1", domain="hikvision", title="x", data={}, options={}, tenant_id="nobody", created_at=0
            )
        )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_deleting_a_tenant_cascades_to_its_config_entries(database: Database) -> None:
    async with database.session() as session:
        session.add(Tenant(id="t1", code="acme", name="Acme", created_at=0.0))
        await session.flush()
        session.add(ConfigEntryRow(id="e1", domain="tm20", title="door", data={"a": 1}, tenant_id="t1", created_at=0))
        await session.commit()
    async with database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM tenants WHERE id = 't1'"))
    async with database.session() as session:
        assert (await session.execute(select(ConfigEntryRow))).scalars().all() == []


async def test_engine_and_sessions_need_start(tmp_path: Path) -> None:
    database = Database(default_url(tmp_path))
    with pytest.raises(RuntimeError, match="start"):
        _ = database.engine
    with pytest.raises(RuntimeError, match="start"):
        database.session()


async def test_close_then_start_again_reuses_the_migrated_database(database_url: str) -> None:
    database = Database(database_url)
    await database.start()
    async with database.session() as session:
        session.add(Tenant(id="t1", code="acme", name="Acme", created_at=0.0))
        await session.commit()
    await database.close()
    await database.start()
    try:
        async with database.session() as session:
            assert (await session.execute(select(Tenant.code))).scalars().all() == ["acme"]
    finally:
        await database.close()
