"""The recorder: every state change and event reaches the database in batches, and nothing queued is lost."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from hub.core import Context, Hub, State
from hub.store import recorder as recorder_module
from hub.store.database import Database
from hub.store.models import EventRow, StateRow
from hub.store.recorder import Recorder, RecorderError
from hub.testing.database import count_rows, database_outage


async def test_state_changes_become_state_rows_and_other_events_event_rows(
    recorder: Recorder, database: Database
) -> None:
    hub = recorder.hub
    context = Context(user_id="u1", tenant_id="t1")
    hub.states.set("lock.front_door", "locked", {"battery": 87, "friendly_name": "Front"}, tenant_id="t1")
    hub.states.set("lock.front_door", "unlocked", {"battery": 87}, context=context)
    hub.bus.fire("door_opened", {"door": "front", "badge": 4711}, context=context, tenant_id="t1")
    await recorder.flush()

    async with database.engine.connect() as connection:
        states = (await connection.execute(select(StateRow).order_by(StateRow.id))).all()
        events = (await connection.execute(select(EventRow))).all()
    assert [(row.entity_id, row.state, row.tenant_id) for row in states] == [
        ("lock.front_door", "locked", "t1"),
        ("lock.front_door", "unlocked", "t1"),
    ]
    assert json.loads(states[0].attributes) == {"battery": 87, "friendly_name": "Front"}
    assert states[0].context_id is None
    assert states[1].context_id == context.id
    # state_changed is recorded once, in states; the events table holds the rest.
    assert [(row.event_type, json.loads(row.data), row.user_id, row.tenant_id) for row in events] == [
        ("door_opened", {"door": "front", "badge": 4711}, "u1", "t1")
    ]
    assert events[0].context_id == context.id
    assert recorder.written.states == 2
    assert recorder.written.events == 1


async def test_removing_an_entity_records_no_state_row(recorder: Recorder, database: Database) -> None:
    recorder.hub.states.set("sensor.temperature", "21.5")
    recorder.hub.states.remove("sensor.temperature")
    await recorder.flush()
    assert await count_rows(database, "states") == 1


async def test_the_writer_commits_by_itself_in_batches(recorder: Recorder, database: Database) -> None:
    for round_ in range(5):
        for index in range(1000):
            recorder.hub.states.set(f"sensor.s{index}", str(round_), {"round": round_})
        await asyncio.sleep(0.06)
    deadline = time.monotonic() + 10
    while recorder.written.states < 5000 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert await count_rows(database, "states") == 5000
    assert recorder.queue_size == 0
    assert 1 < recorder.written.commits < 5000  # many rows per commit, more than one commit


async def test_the_listener_only_queues_and_nothing_is_written_before_the_interval(
    tmp_path: Path, database: Database
) -> None:
    hub = Hub(tmp_path)
    recorder = Recorder(hub, database, commit_interval=3600)
    await recorder.start()
    for index in range(100):
        hub.states.set(f"sensor.s{index}", "on")
    await asyncio.sleep(0.05)
    assert recorder.queue_size == 100
    assert await count_rows(database, "states") == 0
    await recorder.stop()
    await hub.stop()


async def test_stop_writes_everything_queued(tmp_path: Path, database: Database) -> None:
    hub = Hub(tmp_path)
    recorder = Recorder(hub, database, commit_interval=3600)
    await recorder.start()
    for index in range(12_345):
        hub.states.set(f"sensor.s{index % 500}", str(index))
    hub.bus.fire("badge_read", {"badge": 1})
    await recorder.stop()
    assert await count_rows(database, "states") == 12_345
    assert await count_rows(database, "events") == 1
    assert recorder.queue_size == 0
    # Stopped means unsubscribed: later changes are not queued.
    hub.states.set("sensor.late", "on")
    assert recorder.queue_size == 0
    await hub.stop()


async def test_commit_barrier_returns_once_earlier_data_is_committed(tmp_path: Path, database: Database) -> None:
    hub = Hub(tmp_path)
    recorder = Recorder(hub, database, commit_interval=3600)  # only the barrier can make it write
    await recorder.start()
    hub.bus.fire("attendance_log", {"terminal": "tm20-1", "user": 42, "time": "2024-05-01T08:00:00"})
    await asyncio.wait_for(recorder.commit_barrier(), timeout=5)
    assert await count_rows(database, "events") == 1
    await asyncio.wait_for(recorder.commit_barrier(), timeout=1)  # nothing new: returns at once
    await recorder.stop()
    await hub.stop()


async def test_excluded_event_types_are_not_recorded(tmp_path: Path, database: Database) -> None:
    hub = Hub(tmp_path)
    recorder = Recorder(hub, database, exclude_event_types={"time_changed", "state_changed"})
    await recorder.start()
    hub.bus.fire("time_changed", {"now": 1})
    hub.bus.fire("door_opened", {"door": "back"})
    hub.states.set("sensor.noisy", "1")
    await recorder.stop()
    assert await count_rows(database, "events") == 1
    assert await count_rows(database, "states") == 0
    await hub.stop()


class _Opaque:
    def __str__(self) -> str:
        return "opaque-thing"


async def test_event_data_that_json_cannot_hold_is_stored_readably(recorder: Recorder, database: Database) -> None:
    state = State("lock.door", "locked", {"battery": 90}, 1.0, 2.0, None, "t1")
    when = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    recorder.hub.bus.fire("custom", {"state": state, "when": when, "thing": _Opaque(), 3: {"tags": ("a", "b")}})  # type: ignore[dict-item]
    await recorder.flush()
    async with database.engine.connect() as connection:
        data = json.loads((await connection.execute(select(EventRow.data))).scalar_one())
    assert data == {
        "state": {
            "entity_id": "lock.door",
            "state": "locked",
            "attributes": {"battery": 90},
            "last_changed": 1.0,
            "last_updated": 2.0,
            "context": None,
            "tenant_id": "t1",
        },
        "when": "2024-05-01T08:00:00+00:00",
        "thing": "opaque-thing",
        "3": {"tags": ["a", "b"]},
    }


async def test_purge_deletes_only_rows_older_than_keep_days(recorder: Recorder, database: Database) -> None:
    old = time.time() - 11 * 86400
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(StateRow),
            [{"entity_id": "sensor.old", "state": "1", "attributes": "{}", "last_changed": old, "last_updated": old}],
        )
        await connection.execute(insert(EventRow), [{"event_type": "old", "data": "{}", "time_fired": old}] * 2)
    recorder.hub.states.set("sensor.new", "1")
    recorder.hub.bus.fire("new")
    await recorder.flush()

    assert await recorder.purge() == 3  # keep_days defaults to 10
    assert await count_rows(database, "states") == 1
    assert await count_rows(database, "events") == 1
    assert await recorder.purge(keep_days=0) == 2


async def test_rows_survive_an_unreachable_database_and_are_written_when_it_returns(
    outage_recorder: Recorder, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    recorder, hub = outage_recorder, outage_recorder.hub
    async with database_outage(database_url):
        for index in range(300):
            hub.states.set(f"sensor.s{index}", "on")
        hub.bus.fire("badge_read", {"badge": 7})
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for "cannot write"
            await recorder.flush()
        await asyncio.sleep(0.5)  # several writer cycles fail
        assert recorder.written.failures >= 2
        assert recorder.queue_size == 301
        barrier = asyncio.ensure_future(recorder.commit_barrier())
        await asyncio.sleep(0.1)
        assert not barrier.done()
    await asyncio.wait_for(barrier, timeout=10)  # the writer retries by itself once the database is back
    assert recorder.queue_size == 0
    assert recorder.written.states == 300
    assert await count_rows(recorder.database, "states") == 300
    assert await count_rows(recorder.database, "events") == 1
    failure_logs = [r for r in caplog.records if r.name == "hub.store.recorder" and "cannot write" in r.message]
    assert len(failure_logs) == 1  # logged once, not once per retry


async def test_a_row_the_database_refuses_does_not_block_the_others(recorder: Recorder, database: Database) -> None:
    if database.dialect == "sqlite":
        pytest.skip("SQLite stores over-long strings; only PostgreSQL refuses them")
    recorder.hub.bus.fire("x" * 100, {})  # event_type is VARCHAR(64)
    for index in range(10):
        recorder.hub.bus.fire("badge_read", {"badge": index})
    await recorder.flush()
    assert await count_rows(database, "events") == 10
    assert recorder.written.dropped == 1
    assert recorder.queue_size == 0


async def test_stop_during_an_outage_waits_for_the_database_and_loses_nothing(
    outage_recorder: Recorder, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "STOP_RETRY_SECONDS", 10.0)
    recorder = outage_recorder
    async with database_outage(database_url):
        for index in range(200):
            recorder.hub.states.set(f"sensor.s{index}", "on")
        stopping = asyncio.ensure_future(recorder.stop())  # SIGTERM while the database is down
        await asyncio.sleep(0.5)
        assert not stopping.done()
    await asyncio.wait_for(stopping, timeout=10)
    assert await count_rows(recorder.database, "states") == 200


async def test_a_barrier_fails_when_the_recorder_stops_without_committing(
    outage_recorder: Recorder, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "STOP_RETRY_SECONDS", 0.3)
    recorder = outage_recorder
    async with database_outage(database_url):
        recorder.hub.bus.fire("attendance_log", {"user": 42})
        barrier = asyncio.ensure_future(recorder.commit_barrier())
        await recorder.stop()
        # The device must not be acknowledged: its data was never committed.
        with pytest.raises(RecorderError):
            await barrier
        assert recorder.queue_size == 1


async def test_the_writer_purges_by_itself(tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder_module, "PURGE_FIRST_DELAY", 0.0)
    old = time.time() - 30 * 86400
    async with database.engine.begin() as connection:
        await connection.execute(insert(EventRow), [{"event_type": "old", "data": "{}", "time_fired": old}])
    hub = Hub(tmp_path)
    recorder = Recorder(hub, database, commit_interval=0.05, keep_days=10)
    await recorder.start()
    deadline = time.monotonic() + 5
    while await count_rows(database, "events") and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await count_rows(database, "events") == 0
    await recorder.stop()
    await hub.stop()
