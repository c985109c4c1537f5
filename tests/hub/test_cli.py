"""The ``gatehouse`` command as a user runs it: real processes, real signals, the database read afterwards."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

from hub.testing import free_port


def gatehouse(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False
    )


def write_config(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return config_dir


def test_check_config_accepts_the_shipped_configuration() -> None:
    shipped = Path(__file__).resolve().parents[2] / "config"

    result = gatehouse("check-config", "--config", str(shipped))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "configuration is valid" in result.stdout


def test_check_config_names_file_line_and_key_and_fails(tmp_path: Path) -> None:
    config_dir = write_config(
        tmp_path,
        """\
        gatehouse:
          name: School
        http:
          port: eighty
          colour: blue
        nonexistent:
          x: 1
        """,
    )

    result = gatehouse("check-config", "--config", str(config_dir))

    assert result.returncode == 1
    assert "configuration.yaml, line 4, http.port:" in result.stdout
    assert "configuration.yaml, line 5, http.colour: unknown key" in result.stdout
    assert "nonexistent" in result.stdout


def test_check_config_reports_malformed_yaml_with_its_position(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, "http:\n  port: 8123\n   host: x\n")

    result = gatehouse("check-config", "--config", str(config_dir))

    assert result.returncode == 1
    assert "configuration.yaml, line 3" in result.stdout


def test_db_upgrade_migrates_once(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, "gatehouse:\n  name: Test\n")

    first = gatehouse("db", "upgrade", "--config", str(config_dir))
    second = gatehouse("db", "upgrade", "--config", str(config_dir))

    assert first.returncode == 0, first.stderr
    assert "migration(s): 0001, 0002, " in first.stdout  # the core first, then the integrations' branches
    assert "tm20_0001" in first.stdout and "hikvision_0001" in first.stdout
    assert "database is up to date" in second.stdout
    tables = {row[0] for row in sqlite3.connect(config_dir / "gatehouse.db").execute("SELECT name FROM sqlite_master")}
    assert {"tenants", "devices", "entities", "config_entries", "states", "events", "health_uptime", "users"} <= tables
    assert "tm20_logs" in tables


def test_run_serves_the_dashboard_and_sigterm_flushes_pending_writes(tmp_path: Path) -> None:
    port = free_port()
    # The recorder would commit only once a minute: everything in the database came from the final flush.
    config_dir = write_config(
        tmp_path,
        f"""\
        http:
          port: {port}
        recorder:
          commit_interval: 60
        demo:
          interval: 0.05
        """,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "--config", str(config_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = _wait_for_page(f"http://127.0.0.1:{port}/", process)
        assert "Gatehouse" in page
        time.sleep(1.0)  # the demo changes states meanwhile
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0, output
    assert f"dashboard on http://127.0.0.1:{port}" in output
    assert "Stopped" in output
    database = sqlite3.connect(config_dir / "gatehouse.db")
    (recorded,) = database.execute("SELECT count(*) FROM states WHERE entity_id LIKE 'sensor.%'").fetchone()
    assert recorded > 10


def _wait_for_page(url: str, process: subprocess.Popen[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gatehouse run exited early: {process.stdout.read() if process.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")
