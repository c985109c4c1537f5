"""WS-Discovery: a unicast Probe to the simulated camera on 127.0.0.1, and multicast only inside a private
network namespace (``unshare -n``), where 239.255.255.250 cannot leave the machine."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest
from lxml import etree

from hub.testing import free_port
from integrations.onvif.discovery import async_discover
from integrations.onvif.simulator import OnvifSimulator
from integrations.onvif.simulator.discovery import probe_matches

REPO = Path(__file__).resolve().parents[3]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unicast_probe_finds_the_camera_once(camera: OnvifSimulator) -> None:
    responder = await camera.start_discovery(port=free_udp_port())

    (device,) = await async_discover(address="127.0.0.1", port=responder.port, timeout=3.0)

    assert device.endpoint == camera.config.endpoint
    assert device.xaddrs == (camera.url,)
    assert (device.host, device.port) == ("127.0.0.1", camera.port)
    assert (device.name, device.hardware, device.location) == ("Simulated camera", "SimCam ONVIF", "lab")
    assert device.mac == "02:00:00:00:6f:01"
    assert "dn:NetworkVideoTransmitter" in device.types
    assert responder.probes == 2  # typed and untyped Probes, both answered, merged into one device
    assert device.as_dict()["name"] == "Simulated camera"


async def test_silence_gives_an_empty_list_after_the_timeout() -> None:
    assert await async_discover(address="127.0.0.1", port=free_udp_port(), timeout=0.2) == []


async def test_garbage_and_answers_to_other_probes_are_ignored(camera: OnvifSimulator) -> None:
    """A neighbour on the port sends junk and answers someone else's Probe before the camera's own answer."""
    other = dataclasses.replace(camera.config, endpoint="urn:uuid:someone-else")
    port = free_udp_port()

    class Noisy(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = cast(asyncio.DatagramTransport, transport)

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            message_id = etree.fromstring(data).findtext(".//{*}MessageID") or ""
            self.transport.sendto(b"<not-xml", addr)
            self.transport.sendto(probe_matches(other, "http://127.0.0.1:1/onvif/device_service", "urn:uuid:x"), addr)
            self.transport.sendto(probe_matches(camera.config, camera.url, message_id), addr)

    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(Noisy, local_addr=("127.0.0.1", port))
    try:
        found = await async_discover(address="127.0.0.1", port=port, timeout=3.0)
    finally:
        transport.close()
    assert [device.endpoint for device in found] == [camera.config.endpoint]


def _namespaces_available() -> str | None:
    """Why multicast cannot be tested here, or None when a private network namespace works."""
    if os.geteuid() != 0:
        return "needs root to create a network namespace (unshare -n)"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "needs unshare and ip (util-linux, iproute2)"
    if subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode != 0:
        return "unshare -n is not permitted in this container"
    return None


MULTICAST_SCRIPT = """
import asyncio, json
from integrations.onvif.discovery import async_discover
from integrations.onvif.simulator import OnvifSimulator

async def main():
    async with OnvifSimulator(rtsp_url="rtsp://127.0.0.1:9/live", port={port}, name="Gate camera") as camera:
        await camera.start_discovery(port=3702, multicast=True)
        devices = await async_discover(timeout=1.0)
        print(json.dumps([device.as_dict() for device in devices]))

asyncio.run(main())
"""


@pytest.mark.skipif(_namespaces_available() is not None, reason=str(_namespaces_available()))
async def test_multicast_discovery_inside_a_private_network_namespace() -> None:
    port = free_port()
    setup = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"
    process = await asyncio.create_subprocess_exec(
        "unshare", "-n", "sh", "-c", f'{setup} && exec "$0" -c "$1"', sys.executable,
        MULTICAST_SCRIPT.replace("{port}", str(port)),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(20):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    (device,) = json.loads(stdout.decode().strip().splitlines()[-1])
    assert device["name"] == "Gate camera"
    assert device["xaddrs"] == [f"http://127.0.0.1:{port}/onvif/device_service"]
    assert device["endpoint"] == "urn:uuid:6f6e7669-6600-4000-8000-000000000001"
