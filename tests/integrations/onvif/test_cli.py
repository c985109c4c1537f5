"""``gatehouse simulate onvif`` and ``gatehouse onvif discover`` as a user runs them: real processes."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

from hub.testing import free_port
from integrations.onvif.probe import probe_onvif
from integrations.onvif.simulator import OnvifSimulator

REPO = Path(__file__).resolve().parents[3]


async def gatehouse(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", *args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


async def test_simulate_onvif_serves_a_camera_until_stopped() -> None:
    port = free_port()
    process = await gatehouse(
        "simulate", "onvif", "--port", str(port), "--rtsp-url", "rtsp://127.0.0.1:8554/live",
        "--password", "secret", "--serial", "CLI-0001", "--duration", "60",
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(20):
            line = await process.stdout.readline()
        assert f"ONVIF camera at http://127.0.0.1:{port}/onvif/device_service" in line.decode()

        probe = await probe_onvif("127.0.0.1", port, "admin", "secret")
        assert probe is not None and probe.device.serial_number == "CLI-0001"
        assert probe.profiles[0].stream_uri == "rtsp://admin:secret@127.0.0.1:8554/live"
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            rest, _ = await process.communicate()
    assert process.returncode == 0
    assert "stopped after" in rest.decode()


async def test_discover_prints_one_json_line_per_device() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        udp_port = sock.getsockname()[1]
    async with OnvifSimulator(rtsp_url="rtsp://127.0.0.1:9/live", name="Yard camera") as camera:
        await camera.start_discovery(port=udp_port)
        process = await gatehouse("onvif", "discover", "--address", "127.0.0.1", "--port", str(udp_port))
        async with asyncio.timeout(20):
            output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    (line,) = [line for line in output.decode().splitlines() if line.startswith("{")]
    found = json.loads(line)
    assert (found["name"], found["host"], found["port"]) == ("Yard camera", "127.0.0.1", camera.port)


async def test_discover_exits_1_when_nothing_answers() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        udp_port = sock.getsockname()[1]
    process = await gatehouse(
        "onvif", "discover", "--address", "127.0.0.1", "--port", str(udp_port), "--timeout", "0.2"
    )
    async with asyncio.timeout(20):
        await process.communicate()
    assert process.returncode == 1
