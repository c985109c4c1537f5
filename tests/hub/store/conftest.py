"""Fixtures for the storage tests: a bare Hub (no bootstrap) with a Recorder on the ``database`` fixture."""

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
