"""The nightly backup as the hub runs it (the schedule, ``backup: false``, a failure) and ``gatehouse backup`` run
as a user runs it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.config import check_config
from hub.core import Hub
from hub.scheduler import Scheduler
from hub.store import backup
from hub.store.backup import (
    DATA_KEY,
    JOB_NAME,
    async_setup_backup,
    list_backups,
)
from hub.store.database import Database
from hub.testing import HubFactory, wait_for

from .backup_support import connect, ids, make_sqlite, postgres_url

__all__ = ["postgres_url"]

GATEHOUSE = Path(sys.executable).parent / "gatehouse"


# ------------------------------------------------------------------------------------------ the schedule


@pytest.fixture
async def bare_hub(tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub with only a migrated SQLite database and a scheduler: what the backup needs."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    hub = Hub(config_dir)
    hub.database = Database(f"sqlite+aiosqlite:///{config_dir / 'gatehouse.db'}")
    await hub.database.start()
    hub.on_stop(hub.database.close)
    hub.scheduler = Scheduler(hub)
    yield hub
    await hub.stop()


async def test_the_scheduled_job_backs_up_at_its_time_of_day(bare_hub: Hub) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).strftime("%H:%M:%S")
    await async_setup_backup(bare_hub, {"at": soon, "keep": 2, "path": "nightly"})
    await wait_for(lambda: JOB_NAME in bare_hub.scheduler.jobs)

    folder = bare_hub.config_dir / "nightly"
    await wait_for(lambda: len(list_backups(folder)) == 1, timeout=10)

    # The next run is tomorrow at the same time, and the job itself keeps only `keep` backups.
    await wait_for(lambda: bare_hub.scheduler.jobs.get(JOB_NAME, 0) - time.time() > 86_000)
    for _ in range(3):
        assert await bare_hub.data[DATA_KEY]() is not None
    assert len(list_backups(folder)) == 2


async def test_a_started_hub_schedules_the_nightly_backup_unless_turned_off(hub_factory: HubFactory) -> None:
    default = await hub_factory()
    await wait_for(lambda: JOB_NAME in default.scheduler.jobs)
    next_run = dt.datetime.fromtimestamp(default.scheduler.jobs[JOB_NAME], dt.UTC)
    assert (next_run.hour, next_run.minute) == (2, 0)  # 02:00 in the hub's time zone (UTC here)
    result = await default.data[DATA_KEY]()
    assert result is not None and result.path.parent == default.config_dir / "backups"

    # A failed night is shown to platform administrators as a notification (and logged).
    shutil.rmtree(default.config_dir / "backups")
    (default.config_dir / "backups").write_text("a file where the folder should be")
    assert await default.data[DATA_KEY]() is None
    (notice,) = default.notifications.all()
    assert notice.title == "Nightly database backup failed" and "backups" in notice.message

    off = await hub_factory(config={"backup": False})
    assert DATA_KEY not in off.data
    assert JOB_NAME not in off.scheduler.jobs


async def test_backup_false_schedules_nothing(bare_hub: Hub) -> None:
    await async_setup_backup(bare_hub, False)
    assert JOB_NAME not in bare_hub.scheduler.jobs and DATA_KEY not in bare_hub.data


async def test_a_failed_backup_is_logged_and_the_job_survives(bare_hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    await async_setup_backup(bare_hub, {"path": "blocked"})
    (bare_hub.config_dir / "blocked").write_text("a file where the folder should be")
    assert await bare_hub.data[DATA_KEY]() is None
    assert "Nightly database backup failed" in caplog.text
    (bare_hub.config_dir / "blocked").unlink()
    assert await bare_hub.data[DATA_KEY]() is not None
    await wait_for(lambda: JOB_NAME in bare_hub.scheduler.jobs)


# ------------------------------------------------------------------------------------------ the CLI


def _gatehouse(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GATEHOUSE), *args], capture_output=True, text=True, timeout=60, check=False)


def _write_config(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return config_dir


def test_gatehouse_backup_command_writes_a_verified_copy(tmp_path: Path) -> None:
    config_dir = _write_config(tmp_path / "config", "backup:\n  keep: 1\n  path: saved\n")
    make_sqlite(config_dir / "gatehouse.db", 50)

    runs = [_gatehouse("backup", "--config", str(config_dir)) for _ in range(2)]

    assert [run.returncode for run in runs] == [0, 0], runs[-1].stderr
    assert "verified" in runs[0].stdout and "removed old backup" in runs[1].stdout
    (saved,) = list_backups(config_dir / "saved")
    assert str(saved) in runs[1].stdout
    assert ids(saved) == list(range(1, 51))

    elsewhere = _gatehouse("backup", "--config", str(config_dir), "--output", str(tmp_path / "usb"))
    assert elsewhere.returncode == 0 and len(list_backups(tmp_path / "usb")) == 1


async def test_gatehouse_backup_of_postgres_via_the_configured_url(postgres_url: str, tmp_path: Path) -> None:
    connection = await connect(postgres_url)
    try:
        await connection.execute("CREATE TABLE visits (id serial PRIMARY KEY, who text NOT NULL)")
        await connection.execute("INSERT INTO visits (who) VALUES ('first visitor')")
    finally:
        await connection.close()
    config_dir = _write_config(tmp_path / "config", f"recorder:\n  db_url: {postgres_url}\n")
    run = _gatehouse("backup", "--config", str(config_dir))
    assert run.returncode == 0, run.stderr
    (dump,) = list_backups(config_dir / "backups")
    assert dump.suffix == ".dump" and str(dump) in run.stdout
    pg_restore = backup.find_postgres_tool("pg_restore")
    assert pg_restore is not None
    listing = subprocess.run([str(pg_restore), "--list", str(dump)], capture_output=True, text=True, check=True)
    assert "TABLE public visits" in listing.stdout


def test_gatehouse_backup_reports_a_missing_database(tmp_path: Path) -> None:
    config_dir = _write_config(tmp_path / "config", "gatehouse:\n  name: Test\n")
    run = _gatehouse("backup", "--config", str(config_dir))
    assert run.returncode == 1
    assert "error: no database file at" in run.stderr and "gatehouse.db" in run.stderr


async def test_the_command_does_not_wait_for_a_busy_hub(tmp_path: Path) -> None:
    """A hub holding a write transaction open does not stop the copy (WAL: readers never wait for writers)."""
    config_dir = _write_config(tmp_path / "config", "backup:\n  keep: 3\n")
    live = config_dir / "gatehouse.db"
    make_sqlite(live, 100)
    writer = sqlite3.connect(live, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO ticks (payload) VALUES ('uncommitted')")
        process = await asyncio.create_subprocess_exec(
            str(GATEHOUSE), "backup", "--config", str(config_dir), stdout=asyncio.subprocess.PIPE
        )
        stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert process.returncode == 0, stdout
    (copy,) = list_backups(config_dir / "backups")
    assert ids(copy) == list(range(1, 101))


def test_configuration_yaml_problems_in_backup_name_the_field_and_line(tmp_path: Path) -> None:
    config_dir = _write_config(tmp_path / "config", 'backup:\n  at: "25:00"\n  keep: 0\n')
    assert [str(problem) for problem in check_config(config_dir, {})] == [
        "configuration.yaml, line 2, backup.at: expected a time of day like '02:00', got '25:00'",
        "configuration.yaml, line 3, backup.keep: value must be at least 1",
    ]
    _write_config(config_dir, "backup: false\n")
    assert check_config(config_dir, {}) == []
