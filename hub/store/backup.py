"""The nightly database backup: a verified copy of the hub's database in a folder, the newest ``keep`` kept.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the live file in one read transaction,
so the copy is a consistent snapshot while the hub goes on writing (WAL readers never block writers); the copy
is switched to a single self-contained file and checked with ``PRAGMA integrity_check``. PostgreSQL:
``pg_dump --format=custom``, checked with ``pg_restore --list``; the password travels in ``PGPASSWORD``, never on
a command line or in a log. Files are named ``gatehouse-YYYYmmdd-HHMMSS.db`` / ``.dump`` (UTC), written under a
``.partial`` name first, so a half-written file is never taken for a backup nor counted by the retention.

``backup: {at: "02:00", keep: 7, path: backups}`` in configuration.yaml (path relative to the configuration
directory, ``backup: false`` turns the schedule off; on by default); ``gatehouse backup`` runs one now.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from sqlalchemy.engine import make_url

from hub.exceptions import HubError
from hub.redact import redact_url

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

CONF_AT = "at"
CONF_KEEP = "keep"
CONF_PATH = "path"
DEFAULT_AT = "02:00"
DEFAULT_KEEP = 7
DEFAULT_PATH = "backups"
JOB_NAME = "database backup"
#: Where the job function is kept in ``hub.data`` (a dotted key: no integration domain can take it).
DATA_KEY = "hub.backup"
FILE_PREFIX = "gatehouse-"
SQLITE_SUFFIX = ".db"
POSTGRES_SUFFIX = ".dump"
PARTIAL_SUFFIX = ".partial"
#: ``gatehouse-20261122-020000.db``, or ``...-020000-2.db`` for a second backup within the same second.
BACKUP_NAME = re.compile(r"^gatehouse-(\d{8})-(\d{6})(?:-(\d+))?\.(db|dump)$")
#: Where Debian and Ubuntu install each PostgreSQL version's programs (``<version>/bin/pg_dump``).
POSTGRES_LIB = Path("/usr/lib/postgresql")
#: How long pg_dump may run before the backup counts as failed.
PG_DUMP_TIMEOUT = 3600.0


class BackupError(HubError):
    """A backup could not be made or did not verify; the message says why, without credentials."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A verified backup: where it is, its size, how long it took, and the old ones the retention removed."""

    path: Path
    size: int
    seconds: float
    removed: tuple[Path, ...] = ()


# ------------------------------------------------------------------------------------------ configuration


def _time_of_day(value: Any) -> dt.time:
    """``"02:00"`` or ``"02:00:30"`` (24-hour clock, the hub's time zone)."""
    if isinstance(value, dt.time):
        return value
    text = str(value).strip()
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, pattern).time()
        except ValueError:
            continue
    raise vol.Invalid(f"expected a time of day like '02:00', got {value!r}")


def _whole_number(value: Any) -> int:
    if isinstance(value, bool | float):
        raise vol.Invalid("expected int")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise vol.Invalid("expected int") from None


def _folder(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a folder path, like 'backups' or '/var/backups/gatehouse'")
    return value.strip()


_SECTION = vol.Schema(
    {
        vol.Optional(CONF_AT, default=DEFAULT_AT): _time_of_day,
        vol.Optional(CONF_KEEP, default=DEFAULT_KEEP): vol.All(_whole_number, vol.Range(min=1)),
        vol.Optional(CONF_PATH, default=DEFAULT_PATH): _folder,
    }
)


def _backup_section(value: Any) -> dict[str, Any] | bool:
    """The ``backup:`` section: ``false`` (off), ``true`` or empty (every default), or a mapping."""
    if value is False:
        return False
    if value is None or value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise vol.Invalid("expected false, or a mapping with at, keep and path")
    return dict(_SECTION(dict(value)))


#: The ``backup:`` section's schema, for hub.config.CORE_SCHEMAS; the validated value is False or a dict.
BACKUP_SCHEMA = vol.Schema(_backup_section)


# ------------------------------------------------------------------------------------------ files


def backup_path(directory: Path, suffix: str, now: dt.datetime | None = None) -> Path:
    """A new backup's path in ``directory``: the UTC time in the name, then ``-2``, ``-3``... for more backups
    within the same second, always numbered after the ones there (so the newest sorts first even after a prune).
    """
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S")
    taken = [0]
    if directory.is_dir():
        for path in directory.glob(f"{FILE_PREFIX}{stamp}*"):
            match = BACKUP_NAME.match(path.name.removesuffix(PARTIAL_SUFFIX))
            if match is not None and f"{match[1]}-{match[2]}" == stamp:
                taken.append(int(match[3] or 1))
    counter = max(taken) + 1
    return directory / f"{FILE_PREFIX}{stamp}{'' if counter == 1 else f'-{counter}'}{suffix}"


def list_backups(directory: Path) -> list[Path]:
    """The backups in ``directory``, newest first (by the time in their names); other files are ignored."""
    if not directory.is_dir():
        return []
    found: list[tuple[tuple[str, str, int], Path]] = []
    for path in directory.iterdir():
        match = BACKUP_NAME.match(path.name)
        if match is not None and path.is_file():
            found.append(((match[1], match[2], int(match[3] or 1)), path))
    return [path for _, path in sorted(found, key=lambda item: item[0], reverse=True)]


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns the deleted paths."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    removed = list_backups(directory)[keep:]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


# ------------------------------------------------------------------------------------------ SQLite


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for another database. In-memory databases cannot be backed up."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if parsed.database in (None, "", ":memory:"):
        raise BackupError("the database is in memory: there is no file to back up")
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy the live SQLite file ``source`` to ``target`` and verify the copy (blocking: run it in a thread).

    ``pages=-1`` copies in one step, inside one read transaction: a consistent snapshot, and in WAL mode the
    hub's writers are not blocked meanwhile (a step-by-step copy would restart at every write of another
    connection, and might never end on a busy hub).
    """
    if not source.is_file():
        raise BackupError(f"no database file at {source}")
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    try:
        with closing(sqlite3.connect(source, timeout=30.0)) as live, closing(sqlite3.connect(partial)) as copy:
            live.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            result = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise BackupError(f"the copy failed its integrity check: {'; '.join(map(str, result[:5]))}")
        partial.replace(target)
    except sqlite3.Error as err:
        raise BackupError(f"SQLite backup of {source} failed: {err}") from err
    finally:
        partial.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------ PostgreSQL


def find_postgres_tool(name: str) -> Path | None:
    """``pg_dump`` or ``pg_restore``: on PATH, else the newest ``/usr/lib/postgresql/<version>/bin``."""
    on_path = shutil.which(name)
    if on_path is not None:
        return Path(on_path)
    found = [path for path in POSTGRES_LIB.glob(f"*/bin/{name}") if path.is_file()]
    found.sort(key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0, reverse=True)
    return found[0] if found else None


def libpq_connection(url: str) -> tuple[list[str], dict[str, str]]:
    """The libpq arguments and environment for a SQLAlchemy PostgreSQL URL: the password goes in PGPASSWORD."""
    parsed = make_url(url)
    arguments: list[str] = []
    if parsed.host:
        arguments += ["--host", parsed.host]
    if parsed.port:
        arguments += ["--port", str(parsed.port)]
    if parsed.username:
        arguments += ["--username", parsed.username]
    if not parsed.database:
        raise BackupError(f"the database URL names no database: {redact_url(url)}")
    arguments += ["--dbname", parsed.database]
    environment: dict[str, str] = {}
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    ssl = parsed.query.get("sslmode") or parsed.query.get("ssl")
    if isinstance(ssl, str) and ssl:
        environment["PGSSLMODE"] = "require" if ssl in ("true", "1") else ssl
    return arguments, environment


async def _run_tool(command: list[str], environment: dict[str, str], timeout: float) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **environment},
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        process.kill()
        await process.wait()
        raise
    return int(process.returncode or 0), stderr.decode(errors="replace").strip()


async def backup_postgres(url: str, target: Path, *, timeout: float = PG_DUMP_TIMEOUT) -> None:
    """``pg_dump --format=custom`` of the database at ``url`` to ``target``, checked with ``pg_restore --list``."""
    pg_dump = find_postgres_tool("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump was not found on PATH nor in /usr/lib/postgresql/*/bin: install the PostgreSQL client "
            "(Debian: apt install postgresql-client) to back up a PostgreSQL database"
        )
    arguments, environment = libpq_connection(url)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    try:
        command = [str(pg_dump), "--format=custom", "--no-password", "--file", str(partial), *arguments]
        try:
            code, errors = await _run_tool(command, environment, timeout)
        except TimeoutError:
            raise BackupError(f"pg_dump of {redact_url(url)} took more than {timeout:.0f} s") from None
        if code != 0:
            raise BackupError(f"pg_dump of {redact_url(url)} failed (exit {code}): {errors}")
        pg_restore = find_postgres_tool("pg_restore")
        if pg_restore is not None:  # reads the archive's table of contents: a truncated file fails here
            code, errors = await _run_tool([str(pg_restore), "--list", str(partial)], {}, timeout)
            if code != 0:
                raise BackupError(f"the dump {target.name} does not read back: {errors}")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------ one backup


async def run_backup(url: str, directory: Path, *, keep: int = DEFAULT_KEEP) -> BackupResult:
    """Back up the database at ``url`` into ``directory``, verify it, then keep only the newest ``keep``."""
    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    source = sqlite_file(url)
    if source is not None:
        target = backup_path(directory, SQLITE_SUFFIX)
        await asyncio.to_thread(backup_sqlite, source, target)
    elif make_url(url).get_backend_name() == "postgresql":
        target = backup_path(directory, POSTGRES_SUFFIX)
        await backup_postgres(url, target)
    else:
        raise BackupError(f"cannot back up a {make_url(url).get_backend_name()} database")
    removed = await asyncio.to_thread(prune_backups, directory, keep)
    return BackupResult(target, target.stat().st_size, time.monotonic() - started, tuple(removed))


def backup_directory(config_dir: Path, section: Mapping[str, Any]) -> Path:
    """The configured folder, relative to the configuration directory unless absolute."""
    return (Path(config_dir) / Path(section[CONF_PATH]).expanduser()).resolve()


# ------------------------------------------------------------------------------------------ the nightly job


async def async_setup_backup(hub: Hub, config: Mapping[str, Any] | bool | None) -> None:
    """Schedule the nightly backup from the ``backup:`` section (absent: the defaults; ``false``: none).

    A failed backup is logged and shown to platform administrators as a notification; the next night tries again.
    """
    try:
        section = _backup_section(config)
    except vol.Invalid as err:
        _LOGGER.error("Configuration: backup: %s; no nightly backup", err)
        return
    if section is False or isinstance(section, bool):
        _LOGGER.info("Nightly database backup is off (backup: false)")
        return
    url = hub.database.url
    try:
        sqlite_file(url)
    except BackupError as err:
        _LOGGER.warning("No nightly database backup: %s", err)
        return
    directory = backup_directory(hub.config_dir, section)
    keep: int = section[CONF_KEEP]

    async def backup_job() -> BackupResult | None:
        try:
            result = await run_backup(url, directory, keep=keep)
        except (BackupError, OSError) as err:
            _LOGGER.error("Nightly database backup failed: %s", err)
            await _notify_failure(hub, str(err))
            return None
        _LOGGER.info(
            "Database backed up to %s (%d bytes, %.1f s); %d old backup(s) removed",
            result.path,
            result.size,
            result.seconds,
            len(result.removed),
        )
        return result

    hub.data[DATA_KEY] = backup_job  # the job itself, for tests and a future "back up now" button
    hub.scheduler.daily(section[CONF_AT], backup_job, JOB_NAME)
    _LOGGER.debug("Nightly database backup at %s into %s, keeping %d", section[CONF_AT], directory, keep)


async def _notify_failure(hub: Hub, reason: str) -> None:
    notifications = getattr(hub, "notifications", None)
    if notifications is None:
        return
    try:
        await notifications.create(reason, title="Nightly database backup failed")
    except Exception:  # the database itself may be what failed: the log line above is enough
        _LOGGER.debug("Could not store the backup failure notification", exc_info=True)


# ------------------------------------------------------------------------------------------ the CLI


def backup_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """``gatehouse backup [--config DIR] [--output DIR] [--keep N]``: one verified backup now."""
    command = subparsers.add_parser("backup", help="back up the database now (SQLite copy or pg_dump)")
    command.add_argument(
        "-c", "--config", type=Path, default=Path("config"), help="configuration directory (default: ./config)"
    )
    command.add_argument(
        "-o", "--output", type=Path, help="folder for the backup (default: backup.path, else <config>/backups)"
    )
    command.add_argument("--keep", type=int, help="keep the newest N backups there (default: backup.keep, else 7)")
    command.set_defaults(func=_backup_command)


def _backup_command(args: argparse.Namespace) -> int:
    from hub.config import ConfigError, load_configuration
    from hub.store.database import default_url

    config_dir: Path = args.config
    try:
        raw = load_configuration(config_dir)
        configured = _backup_section(raw.get("backup"))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except vol.Invalid as err:
        print(f"error: configuration.yaml: backup: {err}", file=sys.stderr)
        return 1
    section = configured if isinstance(configured, dict) else _SECTION({})
    url = str((raw.get("recorder") or {}).get("db_url") or default_url(config_dir))
    directory = args.output.resolve() if args.output is not None else backup_directory(config_dir, section)
    keep = args.keep if args.keep is not None else section[CONF_KEEP]
    if keep < 1:
        print("error: --keep must be at least 1", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(run_backup(url, directory, keep=keep))
    except (BackupError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"backed up {redact_url(url)} to {result.path} ({result.size} bytes, verified, {result.seconds:.1f} s)")
    for path in result.removed:
        print(f"removed old backup {path.name}")
    return 0
