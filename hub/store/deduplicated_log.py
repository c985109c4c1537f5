"""Device records stored once each, in group-committed transactions: the base of every "ack after commit" log.

Terminals resend what they are not sure we stored (a TM20 ``sendlog`` without its ack, a Hikvision event read
again from the device's history after a reconnect). A table with a unique identity and ``INSERT ... ON CONFLICT
DO NOTHING RETURNING`` tells, in the same transaction, which records are new; only those are announced. Writes
that arrive together share one transaction, which is what lets SQLite take thousands of records a second.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from hub.store.database import Database

_LOGGER = logging.getLogger(__name__)


class _Record(Protocol):
    """A dataclass record; ``write`` returns copies with ``id`` set to the new row's."""

    @property
    def id(self) -> int | None: ...


RecordT = TypeVar("RecordT", bound=_Record)


@dataclass(slots=True)
class _Pending(Generic[RecordT]):
    records: list[RecordT]
    future: asyncio.Future[list[RecordT]]


class DeduplicatedLog(abc.ABC, Generic[RecordT]):
    """Group commit into ``table``, unique on ``identity``. Subclasses say how a record becomes a row.

    ``write`` returns, once the transaction is committed, the records that were not stored before, in the order
    given, each with its row ``id``; it raises when the database refuses the transaction (the caller then does not
    acknowledge, and the device sends again). ``batch_window`` seconds let other writers join a transaction.
    """

    #: Used in log lines and the writer task's name.
    name = "records"

    def __init__(self, database: Database, table: Table, identity: Sequence[str], *, batch_window: float = 0.0):
        self.database = database
        self.table = table
        self.identity = tuple(identity)
        self.batch_window = batch_window
        self.commits = 0  # transactions so far (benchmarks report records per commit)
        self.failures = 0
        self._statements: dict[str, Any] = {}
        self._queue: list[_Pending[RecordT]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @abc.abstractmethod
    def row(self, record: RecordT) -> dict[str, Any]:
        """The table row of ``record``; it must hold every ``identity`` column."""

    async def write(self, records: Sequence[RecordT]) -> list[RecordT]:
        if self._closed:
            raise RuntimeError(f"the {self.name} log is stopped")
        if not records:
            return []
        future: asyncio.Future[list[RecordT]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(list(records), future))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"{self.name} log writer")
        return await future

    async def stop(self) -> None:
        """Commit what is queued, then stop (writes after this raise)."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if self.batch_window and not self._closed:
                await asyncio.sleep(self.batch_window)
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                await self._commit(batch)
            if self._closed:
                return

    async def _commit(self, batch: list[_Pending[RecordT]]) -> None:
        rows = [(record, self.row(record)) for pending in batch for record in pending.records]
        try:
            inserted = await self._insert(rows)
        except Exception as err:  # the database is down or busy: every waiting writer gets the error
            self.failures += 1
            _LOGGER.warning("Could not store %d %s, the devices will send them again: %s", len(rows), self.name, err)
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(err)
            return
        self.commits += 1
        keys = iter([self._key(row) for _, row in rows])
        for pending in batch:
            new: list[RecordT] = []
            for record in pending.records:
                row_id = inserted.pop(next(keys), None)  # pop: a record twice in one group is new only once
                if row_id is not None:
                    new.append(dataclasses.replace(record, id=row_id))  # type: ignore[type-var]
            if not pending.future.done():
                pending.future.set_result(new)

    def _key(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[column] for column in self.identity)

    async def _insert(self, rows: list[tuple[RecordT, dict[str, Any]]]) -> dict[tuple[Any, ...], int]:
        """One transaction for the whole group; the id of each row that was inserted, by its identity."""
        unique: dict[tuple[Any, ...], dict[str, Any]] = {}
        for _, row in rows:
            unique.setdefault(self._key(row), row)
        dialect = postgresql if self.database.dialect == "postgresql" else sqlite
        statement = self._statements.get(dialect.__name__)
        if statement is None:  # one statement per dialect: SQLAlchemy caches its compiled form
            statement = self._statements[dialect.__name__] = (
                dialect.insert(self.table)
                .on_conflict_do_nothing(index_elements=list(self.identity))
                .returning(self.table.c.id, *(self.table.c[column] for column in self.identity))
            )
        inserted: dict[tuple[Any, ...], int] = {}
        async with self.database.engine.begin() as connection:
            # executemany with RETURNING: SQLAlchemy's "insertmanyvalues" sends multi-row INSERTs for us.
            result = await connection.execute(statement, list(unique.values()))
            for row_id, *identity in result.all():
                inserted[tuple(identity)] = row_id
        return inserted
