"""The hub's database: one SQLAlchemy 2 async engine, SQLite by default, PostgreSQL at scale.

The schema is Alembic's alone: ``start()`` migrates to head, nothing calls ``metadata.create_all``, so a
database made by an old hub and one made today end up identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

_LOGGER = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DATABASE_FILE = "gatehouse.db"
# SQLite waits this long for another writer's lock (a purge, a registry write) before failing a write.
SQLITE_BUSY_TIMEOUT = 15.0
# Two hub nodes starting on one PostgreSQL must not both run the same migration.
_MIGRATION_LOCK_ID = 0x6761746568  # "gateh"


def default_url(config_dir: Path) -> str:
    """The zero set-up database: a SQLite file in the configuration directory."""
    return f"sqlite+aiosqlite:///{Path(config_dir).resolve() / DATABASE_FILE}"


def alembic_config(connection: Connection | None = None, migration_folders: Sequence[Path] = ()) -> Config:
    """Alembic configured from code (no alembic.ini): our migrations folder, optionally an open connection.

    ``migration_folders`` are integrations' version folders (the ``migration_folders`` hook), searched with ours.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if migration_folders:
        locations = [MIGRATIONS_DIR / "versions", *migration_folders]
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", os.pathsep.join(str(path).replace("%", "%%") for path in locations))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (history, the API) run while the recorder writes; NORMAL is durable across a crash of
    # the hub and only risks the last commits on power loss, at a fraction of FULL's cost.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine with the hub's settings for each dialect (SQLite pragmas, PostgreSQL pre-ping)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool  # one shared in-memory database, not one per connection
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if "timeout" not in parsed.query:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
        engine = create_async_engine(parsed, **kwargs)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    # A PostgreSQL restart or failover kills pooled connections; check them out alive.
    return create_async_engine(parsed, pool_pre_ping=True)


def _upgrade_sync(connection: Connection, migration_folders: Sequence[Path] = ()) -> list[str]:
    applied: list[str] = []

    def on_apply(*, step: Any, **_kwargs: Any) -> None:  # Alembic passes ctx, step, heads, run_args
        if step.is_upgrade:
            applied.append(step.up_revision_id)

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
    config = alembic_config(connection, migration_folders)
    config.attributes["on_version_apply"] = on_apply
    command.upgrade(config, "heads")  # the core's head and each integration's branch
    return applied


async def _upgrade(connection: AsyncConnection, migration_folders: Sequence[Path] = ()) -> list[str]:
    applied = await connection.run_sync(_upgrade_sync, migration_folders)
    await connection.commit()
    if applied:
        _LOGGER.info("Database migrated: %s", ", ".join(applied))
    return applied


def _current_sync(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(url: str, migration_folders: Sequence[Path] = ()) -> list[str]:
    """Migrate the database at ``url`` to the newest schema; returns the revision ids applied, oldest first."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await _upgrade(connection, migration_folders)
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    """The schema revision the database at ``url`` is at (None: never migrated)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_sync)
    finally:
        await engine.dispose()


class Database:
    """The hub's one engine and session factory; ``start()`` connects and migrates, ``close()`` disposes.

    ``migration_folders``: integrations' Alembic version folders, migrated with the core's.
    """

    def __init__(self, url: str, migration_folders: Sequence[Path] = ()) -> None:
        self.url = url
        self.migration_folders = tuple(migration_folders)
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._merges: list[tuple[Any, asyncio.Future[None]]] = []
        self._merger: asyncio.Task[None] | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("Database.start() has not run")
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``: for the few queries that differ."""
        return make_url(self.url).get_backend_name()

    async def start(self) -> None:
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection:
                await _upgrade(connection, self.migration_folders)
        except BaseException:
            await engine.dispose()
            raise
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def close(self) -> None:
        if self._merger is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._merger
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = None
        self._sessions = None

    def session(self) -> AsyncSession:
        """A new session, to use as ``async with database.session() as session:``."""
        if self._sessions is None:
            raise RuntimeError("Database.start() has not run")
        return self._sessions()

    async def merge(self, row: Any) -> None:
        """Insert or update one ORM row (by primary key) in the next group commit; returns once committed.

        One writer task merges whatever is queued in one transaction, so a storm of registry writes (2,000
        terminals reconnecting) takes one connection and a few commits instead of a pool connection each.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._merges.append((row, future))
        if self._merger is None or self._merger.done():
            self._merger = asyncio.get_running_loop().create_task(self._merge_queued(), name="database merge")
        await future

    async def _merge_queued(self) -> None:
        while self._merges:
            batch, self._merges = self._merges, []
            try:
                await self._merge_rows([row for row, _ in batch])
            except Exception:  # a bad row must not fail the others: write them one by one
                for row, future in batch:
                    try:
                        await self._merge_rows([row])
                    except Exception as err:
                        if not future.done():
                            future.set_exception(err)
                    else:
                        if not future.done():
                            future.set_result(None)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def _merge_rows(self, rows: list[Any]) -> None:
        async with self.session() as session:
            for row in rows:
                await session.merge(row)
            await session.commit()

    def __repr__(self) -> str:
        return f"<Database {make_url(self.url).render_as_string(hide_password=True)}>"
