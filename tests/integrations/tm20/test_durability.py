"""An acknowledged log is never lost: a real ``gatehouse run`` is killed with SIGKILL while simulated terminals
push batches, and every batch it acknowledged is in the database afterwards (SQLite in WAL mode)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from hub.testing import free_port
from integrations.tm20.simulator import TerminalSimulator

TERMINALS = 20


async def _wait_listening(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"gatehouse run exited early: {output}")
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise AssertionError(f"the TM20 endpoint did not listen on {port} within {timeout} s")


async def _push(simulator: TerminalSimulator, acked: list[dict[str, Any]], stop: asyncio.Event) -> None:
    """Batches of 10 as fast as acks come; a batch counts only once its ack arrived."""
    while not stop.is_set():
        records = simulator.make_logs(10)
        try:
            reply = await simulator.send_logs(records)
        except (ConnectionError, TimeoutError, OSError, Exception):
            return
        if reply.get("result") is True:
            acked.extend({**record, "sn": simulator.sn} for record in records)


async def test_every_acknowledged_log_survives_kill_9(tmp_path: Path) -> None:
    port, http_port = free_port(), free_port()
    (tmp_path / "configuration.yaml").write_text(
        f"http:\n  host: 127.0.0.1\n  port: {http_port}\ntm20:\n  host: 127.0.0.1\n  port: {port}\n  time_zone: UTC\n"
    )
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "--config", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    simulators: list[TerminalSimulator] = []
    acked: list[dict[str, Any]] = []
    stop = asyncio.Event()
    try:
        await _wait_listening(port, process)
        url = f"ws://127.0.0.1:{port}/ws/tm20/"
        for number in range(TERMINALS):
            simulator = TerminalSimulator(url, f"DUR{number:05d}", reconnect=False, reply_timeout=5)
            await simulator.start()
            simulators.append(simulator)
        pushers = [asyncio.create_task(_push(simulator, acked, stop)) for simulator in simulators]
        while len(acked) < 3000:  # let acks pile up while batches are in flight
            await asyncio.sleep(0.01)
            assert process.poll() is None
        process.send_signal(signal.SIGKILL)  # no clean stop: nothing gets flushed on the way out
        process.wait(timeout=10)
        stop.set()
        await asyncio.gather(*pushers, return_exceptions=True)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for simulator in simulators:
            await simulator.close()
        if process.stdout is not None:
            process.stdout.close()

    assert process.returncode == -signal.SIGKILL
    database = sqlite3.connect(tmp_path / "gatehouse.db")
    try:
        stored = set(database.execute("SELECT sn, enrollid, time, mode, event FROM tm20_logs").fetchall())
    finally:
        database.close()
    keys = {(log["sn"], log["enrollid"], log["time"], log["mode"], log["event"]) for log in acked}
    assert len(keys) == len(acked) >= 3000  # every acked record is distinct
    missing = keys - stored
    assert not missing, f"{len(missing)} acknowledged logs lost, e.g. {sorted(missing)[:3]}"
