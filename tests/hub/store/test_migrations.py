"""Alembic owns the schema: migrations create exactly the tables of models.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

import hub
from hub.plugins import PluginManager
from hub.store.database import Database, alembic_config, create_engine, current_revision, upgrade
from hub.store.models import Base

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _builtin_folders() -> list[Path]:
    """The built-in integrations' migrations (the ``migration_folders`` hook); loading them imports their models."""
    plugins = PluginManager()
    plugins.load_builtin()
    return plugins.migration_folders()


FOLDERS = _builtin_folders()


def test_there_is_one_head_and_it_is_the_notifications_revision() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == ["0003"]


async def test_upgrade_applies_every_revision_once(database_url: str) -> None:
    assert await current_revision(database_url) is None
    assert await upgrade(database_url) == ["0001", "0002", "0003"]
    assert await current_revision(database_url) == HEAD
    assert await upgrade(database_url) == []


async def test_start_migrates_to_head(database: Database, database_url: str) -> None:
    assert await current_revision(database_url) == HEAD


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    """Core and integration migrations together create exactly the models on ``Base`` (tm20's included)."""
    assert "tm20_logs" in Base.metadata.tables
    database = Database(database_url, migration_folders=FOLDERS)
    await database.start()
    try:
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await database.close()
    assert differences == []


def test_integration_branches_depend_on_the_core_head() -> None:
    script = ScriptDirectory.from_config(alembic_config(migration_folders=FOLDERS))
    branch_roots = [revision for revision in script.walk_revisions() if revision.dependencies]
    labels = {label for revision in branch_roots for label in revision.branch_labels}

    assert {"tm20", "hikvision"} <= labels
    core = {revision.revision for revision in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    assert all(revision.down_revision is None and revision.dependencies in core for revision in branch_roots)
    assert HEAD in script.get_heads()


async def test_upgrade_with_integrations_runs_the_core_first(database_url: str) -> None:
    applied = await upgrade(database_url, FOLDERS)

    assert applied[:2] == ["0001", "0002"]
    assert {"tm20_0001", "hikvision_0001"} <= set(applied[2:])
    assert await upgrade(database_url, FOLDERS) == []


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(database_url: str) -> None:
    model_tables = set(Base.metadata.tables)
    database = Database(database_url, migration_folders=FOLDERS)
    await database.start()
    await database.close()
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) >= model_tables
            await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync, FOLDERS), "base"))
            await connection.commit()
            assert await connection.run_sync(_tables) == {"alembic_version"}
    finally:
        await engine.dispose()
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync, FOLDERS), "heads"))
            await connection.commit()
            assert await connection.run_sync(_tables) == model_tables | {"alembic_version"}
    finally:
        await engine.dispose()


def test_no_production_code_creates_tables_behind_alembics_back() -> None:
    package = Path(hub.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "testing" not in path.parts and "create_all(" in path.read_text()
    ]
    assert offenders == []
