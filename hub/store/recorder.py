"""The recorder: every state change and event, written to the database in batches.

The bus listener only appends the event to a list (one C call, on the hot path of every state write); a writer
task turns the list into rows and inserts them with executemany, one transaction per cycle. Rows that could not
be written stay queued and are retried, so nothing the hub has seen is dropped because the database blinked.
``commit_barrier()`` lets a device integration acknowledge data only once it is committed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import Insert, delete, insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from hub.core import EVENT_STATE_CHANGED, MATCH_ALL, Event, Hub, State
from hub.store.database import Database
from hub.store.models import EventRow, StateRow

_LOGGER = logging.getLogger(__name__)

CHUNK_ROWS = 2000  # rows per executemany; the writer yields to the loop between chunks
CONVERT_INTERVAL = 0.1  # seconds between turning queued events into rows, between commits
PURGE_FIRST_DELAY = 3600.0
PURGE_INTERVAL = 86400.0
STOP_RETRY_SECONDS = 5.0  # how long stop() keeps retrying a refused final write before giving up


def _json_default(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def _make_encoder() -> Callable[[Any], str]:
    """The C encoder, built once: ``json.dumps`` builds one per call, which costs more than encoding 3 attributes.

    No circular-reference bookkeeping (a cycle raises RecursionError, which ``to_json`` handles).
    """
    if c_make_encoder is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(default=_json_default, separators=(",", ":")).encode
    encode_chunks = c_make_encoder(None, _json_default, encode_basestring_ascii, None, ":", ",", False, False, True)

    def encode(value: Any) -> str:
        return "".join(encode_chunks(value, 0))

    return encode


_ENCODE = _make_encoder()


def _jsonable(value: Any) -> Any:
    """Turn States (tuples to json) into dicts and non-string keys into strings, recursively."""
    if isinstance(value, State):
        return _jsonable(value.as_dict())
    if isinstance(value, Mapping):
        return {key if isinstance(key, str) else str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def to_json(value: Any) -> str:
    """JSON text for a row; never raises (an unserialisable value is stored as its ``str``)."""
    try:
        return _ENCODE(value)
    except (TypeError, ValueError, RecursionError):
        try:
            return _ENCODE(_jsonable(value))
        except (TypeError, ValueError, RecursionError):
            return _ENCODE({"unserialisable": str(value)})


def _device_id(data: Mapping[str, Any]) -> str | None:
    """The event's ``device_id``, indexed so a device's history is one lookup; anything not an id is left out."""
    device_id = data.get("device_id") if data else None
    return device_id if isinstance(device_id, str) and len(device_id) <= 32 else None


class RecorderError(Exception):
    """The recorder stopped with rows it could not commit (a commit barrier cannot be honoured)."""


@dataclass(slots=True)
class RecorderCounters:
    """What the recorder has done since it started (for health and metrics)."""

    states: int = 0
    events: int = 0
    commits: int = 0
    failures: int = 0
    dropped: int = 0  # rows the database refused as invalid (never rows it could not reach)

    @property
    def rows(self) -> int:
        return self.states + self.events


class Recorder:
    """Records states and events of ``hub`` into ``database``, committing every ``commit_interval`` seconds."""

    def __init__(
        self,
        hub: Hub,
        database: Database,
        *,
        commit_interval: float = 1.0,
        keep_days: int = 10,
        exclude_event_types: Collection[str] = (),
    ) -> None:
        self.hub = hub
        self.database = database
        self.commit_interval = commit_interval
        self.keep_days = keep_days
        self.exclude_event_types = frozenset(exclude_event_types)
        self.written = RecorderCounters()
        self._pending: list[Event[Any]] = []  # the listener appends here; only the writer takes from the front
        self._state_rows: list[dict[str, Any]] = []  # converted, not yet committed
        self._event_rows: list[dict[str, Any]] = []
        self._in_flight = 0  # rows in the transaction being committed
        self._taken = 0  # events moved out of _pending since start
        self._committed = 0  # of those, how many are committed (or needed no row)
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._lock = asyncio.Lock()  # one write (or purge) at a time
        self._wake = asyncio.Event()
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failing = False
        self._insert_states: Insert = insert(StateRow.__table__)  # type: ignore[arg-type]
        self._insert_events: Insert = insert(EventRow.__table__)  # type: ignore[arg-type]

    @property
    def queue_size(self) -> int:
        """Events and rows waiting to be committed."""
        return len(self._pending) + len(self._state_rows) + len(self._event_rows) + self._in_flight

    async def start(self) -> None:
        self._stopping = False
        self._unsubscribe = self.hub.bus.listen(MATCH_ALL, self._pending.append)
        self._task = self.hub.create_background_task(self._run(), "recorder writer")

    async def stop(self) -> None:
        """Stop listening, then write everything queued (retrying a while if the database refuses)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.wait([self._task])
            self._task = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_RETRY_SECONDS
        while True:
            try:
                await self._write()
                return
            except Exception as err:
                if loop.time() >= deadline:
                    _LOGGER.error("Recorder stopped with %d rows it could not write: %s", self.queue_size, err)
                    self._fail_waiters(err)
                    return
                self._log_failure(err)
                await asyncio.sleep(min(0.5, self.commit_interval))

    async def flush(self) -> None:
        """Write and commit everything queued now; raises if the database refuses (the rows stay queued)."""
        await self._write()

    async def commit_barrier(self) -> None:
        """Return once everything queued before this call is committed (wakes the writer: group commit)."""
        target = self._taken + len(self._pending)
        if self._committed >= target:
            return
        if self._task is None:  # no writer running (not started, or stopped): write now, or raise
            await self._write()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._wake.set()
        await future

    async def purge(self, keep_days: int | None = None) -> int:
        """Delete states and events older than ``keep_days`` (default: the recorder's); returns rows deleted."""
        days = self.keep_days if keep_days is None else keep_days
        cutoff = time.time() - days * 86400
        async with self._lock, self.database.engine.begin() as connection:
            states = await connection.execute(delete(StateRow).where(StateRow.last_updated < cutoff))
            events = await connection.execute(delete(EventRow).where(EventRow.time_fired < cutoff))
        deleted = int(states.rowcount or 0) + int(events.rowcount or 0)
        _LOGGER.info("Recorder purged %d rows older than %d days", deleted, days)
        return deleted

    # ------------------------------------------------------------------------------------------------ writer

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_purge = loop.time() + PURGE_FIRST_DELAY
        next_commit = loop.time() + self.commit_interval
        while not self._stopping:
            now = loop.time()
            if now < next_commit and not self._wake.is_set():
                # Between commits, turn events into rows early: the hub's heap then holds small rows the garbage
                # collector does not track, not a second's worth of events and the old states they reference.
                await self._convert_queued()
                try:
                    async with asyncio.timeout(min(next_commit - loop.time(), CONVERT_INTERVAL)):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                continue
            self._wake.clear()
            if self._stopping:
                return
            next_commit = now + self.commit_interval
            try:
                await self._write()
            except Exception as err:
                self._log_failure(err)
            if loop.time() >= next_purge:
                next_purge = loop.time() + PURGE_INTERVAL
                try:
                    await self.purge()
                except Exception:
                    _LOGGER.exception("Recorder purge failed; next try in a day")

    async def _convert_queued(self, target: int | None = None) -> None:
        """Convert queued events (up to sequence number ``target``) in chunks, yielding to the loop between them."""
        if target is None:
            target = self._taken + len(self._pending)
        while self._taken < target:
            self._convert(min(CHUNK_ROWS, target - self._taken))
            await asyncio.sleep(0)

    async def _write(self) -> None:
        async with self._lock:
            target = self._taken + len(self._pending)
            await self._convert_queued(target)
            states, events = self._state_rows, self._event_rows
            if states or events:
                self._state_rows, self._event_rows = [], []  # events converted meanwhile go to the next commit
                self._in_flight = len(states) + len(events)
                try:
                    await self._commit_rows(states, events)
                except BaseException:
                    # Not committed: back to the front of the queue (``states``/``events`` hold what is left).
                    self._state_rows[:0] = states
                    self._event_rows[:0] = events
                    raise
                finally:
                    self._in_flight = 0
                if self._failing:
                    self._failing = False
                    _LOGGER.warning("Recorder writes to the database again")
            self._committed = max(self._committed, target)
            self._release_waiters()

    def _convert(self, count: int) -> None:
        """Move the ``count`` oldest events from the queue into rows (no await: nothing can be lost midway)."""
        batch = self._pending[:count]
        del self._pending[:count]
        self._taken += count
        excluded = self.exclude_event_types
        state_rows = self._state_rows
        event_rows = self._event_rows
        for event in batch:
            event_type = event.event_type
            if event_type in excluded:
                continue
            if event_type == EVENT_STATE_CHANGED:
                new_state = event.data["new_state"]
                if new_state is None:
                    continue
                entity_id, state, attributes, last_changed, last_updated, context, tenant_id = new_state
                state_rows.append(
                    {
                        "entity_id": entity_id,
                        "state": state,
                        "attributes": to_json(attributes) if attributes else "{}",
                        "last_changed": last_changed,
                        "last_updated": last_updated,
                        "context_id": context.id if context is not None else None,
                        "tenant_id": tenant_id,
                    }
                )
                continue
            context = event.context
            event_rows.append(
                {
                    "event_type": event_type,
                    "data": to_json(_jsonable(event.data)) if event.data else "{}",
                    "time_fired": event.time_fired,
                    "context_id": context.id if context is not None else None,
                    "user_id": context.user_id if context is not None else None,
                    "tenant_id": event.tenant_id,
                    "device_id": _device_id(event.data),
                }
            )

    async def _commit_rows(self, states: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        """Insert both lists in one transaction; on failure they keep the rows that are not committed."""
        pending = self._pending
        try:
            async with self.database.engine.begin() as connection:
                for statement, rows in ((self._insert_states, states), (self._insert_events, events)):
                    for start in range(0, len(rows), CHUNK_ROWS):
                        await connection.execute(statement, rows[start : start + CHUNK_ROWS])
                        if pending:  # keep converting while the database works: the queue stays short
                            self._convert(min(CHUNK_ROWS, len(pending)))
        except DBAPIError as err:
            if not _refused_as_invalid(err):
                raise
            # One invalid row (too long for PostgreSQL, say) must not block every row behind it forever.
            await self._commit_isolating_invalid_rows(states, events)
            return
        self.written.states += len(states)
        self.written.events += len(events)
        self.written.commits += 1
        states.clear()
        events.clear()

    async def _commit_isolating_invalid_rows(self, states: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        """Commit the rows in halves, recursively, and drop only those the database refuses one by one."""
        for rows, statement in ((states, self._insert_states), (events, self._insert_events)):
            todo = [list(rows)] if rows else []
            while todo:
                piece = todo.pop()
                try:
                    async with self.database.engine.begin() as connection:
                        await connection.execute(statement, piece)
                except DBAPIError as err:
                    if not _refused_as_invalid(err):
                        rows[:] = [row for remaining in (*todo, piece) for row in remaining]
                        raise
                    if len(piece) > 1:
                        todo += [piece[len(piece) // 2 :], piece[: len(piece) // 2]]
                    else:
                        self.written.dropped += 1
                        _LOGGER.error("Recorder dropped a row the database refuses: %s (%s)", piece[0], err.orig)
                    continue
                except BaseException:
                    rows[:] = [row for remaining in (*todo, piece) for row in remaining]
                    raise
                if rows is states:
                    self.written.states += len(piece)
                else:
                    self.written.events += len(piece)
            rows.clear()
        self.written.commits += 1

    def _release_waiters(self) -> None:
        committed = self._committed
        waiting = []
        for target, future in self._waiters:
            if future.done():
                continue
            if target <= committed:
                future.set_result(None)
            else:
                waiting.append((target, future))
        self._waiters = waiting

    def _fail_waiters(self, err: BaseException) -> None:
        for _target, future in self._waiters:
            if not future.done():
                future.set_exception(RecorderError(f"recorder stopped before committing: {err}"))
        self._waiters = []

    def _log_failure(self, err: BaseException) -> None:
        self.written.failures += 1
        if not self._failing:
            self._failing = True
            _LOGGER.warning(
                "Recorder cannot write to the database (%s); keeping %d rows queued, retrying every %.1f s",
                err,
                self.queue_size,
                self.commit_interval,
            )
        else:
            _LOGGER.debug("Recorder write failed again: %s", err)


def _refused_as_invalid(err: DBAPIError) -> bool:
    """The database refused the data itself (SQLSTATE class 22 or 23), not the connection: retrying cannot help."""
    if isinstance(err, DataError | IntegrityError):
        return True
    sqlstate = getattr(err.orig, "sqlstate", None) or ""
    return sqlstate[:2] in ("22", "23")
