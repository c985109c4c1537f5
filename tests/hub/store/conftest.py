"""Fixtures for the storage tests: a bare Hub (no bootstrap) with a Recorder, on a healthy or failing database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.core import Hub
from hub.store.database import Database
from hub.store.recorder import Recorder


@pytest.fixture
async def recorder(tmp_path: Path, database: Database) -> AsyncIterator[Recorder]:
    """A started recorder committing every 50 ms, on a bare Hub."""
    hub = Hub(tmp_path)
    recorder = Recorder(hub, database, commit_interval=0.05)
    await recorder.start()
    yield recorder
    await recorder.stop()
    await hub.stop()


@pytest.fixture
async def outage_recorder(tmp_path: Path, database_url: str) -> AsyncIterator[Recorder]:
    """Like ``recorder``, on a database the test can take down with ``database_outage(database_url)``.

    SQLite writers wait for the lock up to their busy timeout: a short one makes the outage show at once.
    """
    url = f"{database_url}?timeout=0.2" if database_url.startswith("sqlite") else database_url
    database = Database(url)
    await database.start()
    hub = Hub(tmp_path)
    recorder = Recorder(hub, database, commit_interval=0.05)
    await recorder.start()
    yield recorder
    await recorder.stop()
    await hub.stop()
    await database.close()
