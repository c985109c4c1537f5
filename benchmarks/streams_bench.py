"""Camera streams on this machine: how many 720p H.264 cameras one hub keeps decoded at 5 fps, what each costs
in CPU and memory, and how fast a snapshot answers.

A real GStreamer RTSP server (``hub.testing.rtsp``, a child process under ``/usr/bin/python3``) serves one live
1280x720 25 fps H.264 stream (a keyframe a second; SMPTE bars scrolling 4 px a frame, about 2.5 Mbit/s, like a
busy real camera; ``--pattern ball --motion 0`` is a nearly still scene at 0.2 Mbit/s) on 127.0.0.1. Every
benchmark camera is its own camera entity with its own RTSP connection and its own decoder in the hub
(``hub.streams``), all reading that one URL, so the server encodes once (its CPU is reported apart,
``server_cpu_percent``; on a real site the cameras encode).
The hub runs in this process with HTTP on 127.0.0.1. Phases, one JSON line per figure:

1. ``memory_per_open_stream``: the hub's RSS growth with ``--memory-cameras`` streams open and decoding,
   divided by their number (after a full garbage collection; measured first, on a fresh hub).
2. ``streams_5fps``: for 1, 2, 4, 8, 12, 16... cameras, each with a ``hub.streams.frames(camera, fps=5)``
   consumer (``--convert`` also turns each frame into a BGR array, as detection does), ``--seconds`` s of steady
   state: delivered fps per camera (min and mean), the hub's CPU (all its threads; 200 % is both cores). A step
   holds when every camera gets at least 95 % of 5 fps and the hub leaves a quarter of the machine free
   (CPU <= 150 %); the first step that does not hold ends the ramp. ``cameras_at_5fps_720p``: the largest step
   that held, with the CPU per camera there.
3. ``snapshot_latency``: ``GET /api/camera_proxy/<id>`` over HTTP, one request at a time, ``--snapshots``
   requests spread over 4 open cameras (``warm``: the decoder is open, the latest frame is fresh, the answer is
   a JPEG encode), at full size and at ``width=640``; and ``cold``: the camera's stream is closed first, so the
   request opens RTSP, waits for a keyframe and decodes it (``--cold`` trials). p50/p99 in milliseconds.

Run: ``.venv/bin/python benchmarks/streams_bench.py [--seconds 6] [--max-cameras 64] [--convert]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

TARGET_FPS = 5.0
HOLD_RATIO = 0.95
CPU_CEILING = 150.0
STEPS = (1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def emit(figure: str, **values: Any) -> None:
    print(json.dumps({"figure": figure, **values}), flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def process_cpu_seconds(pid: int | None = None) -> float:
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Consumer:
    """A 5 fps frame consumer on one camera, counting what it receives."""

    def __init__(self, hub: Any, camera: Any, fps: float, convert: bool) -> None:
        self.frames = 0
        self.task = asyncio.create_task(self._run(hub, camera, fps, convert))

    async def _run(self, hub: Any, camera: Any, fps: float, convert: bool) -> None:
        async with hub.streams.frames(camera, fps=fps) as frames:
            async for frame in frames:
                if convert:
                    await frame.async_ndarray("bgr24")
                self.frames += 1

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def add_cameras(hub: Any, url: str, first: int, count: int) -> list[Any]:
    from hub.camera import Camera

    cameras = []
    for index in range(first, first + count):
        camera = Camera(name=f"Bench {index}", unique_id=f"bench-{index}", source=url,
                        options={"rtsp_transport": "tcp"})  # fmt: skip
        await hub.entities.add(camera, platform="bench")
        cameras.append(camera)
    return cameras


async def ramp(hub: Any, url: str, server_pid: int, args: argparse.Namespace) -> None:
    cameras: list[Any] = []
    consumers: list[Consumer] = []
    best: dict[str, Any] | None = None
    for step in [step for step in STEPS if step <= args.max_cameras]:
        new = await add_cameras(hub, url, len(cameras), step - len(cameras))
        cameras += new
        consumers += [Consumer(hub, camera, TARGET_FPS, args.convert) for camera in new]
        deadline = time.monotonic() + 30
        while any(consumer.frames == 0 for consumer in consumers) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)  # let the openings' bursts pass
        counts = [consumer.frames for consumer in consumers]
        cpu, server_cpu, started = process_cpu_seconds(), process_cpu_seconds(server_pid), time.monotonic()
        await asyncio.sleep(args.seconds)
        elapsed = time.monotonic() - started
        rates = [(consumer.frames - count) / elapsed for consumer, count in zip(consumers, counts, strict=True)]
        hub_cpu = 100.0 * (process_cpu_seconds() - cpu) / elapsed
        line = {
            "cameras": step,
            "min_fps": round(min(rates), 2),
            "mean_fps": round(sum(rates) / len(rates), 2),
            "hub_cpu_percent": round(hub_cpu, 1),
            "cpu_percent_per_camera": round(hub_cpu / step, 2),
            "server_cpu_percent": round(100.0 * (process_cpu_seconds(server_pid) - server_cpu) / elapsed, 1),
            "decoded_fps_total": round(sum(hub.streams.stats(camera.entity_id).fps_decoded for camera in cameras), 1),
            "convert": args.convert,
        }
        held = min(rates) >= HOLD_RATIO * TARGET_FPS and hub_cpu <= CPU_CEILING
        emit("streams_5fps", **line, ok=held)
        if not held:
            break
        best = line
    for consumer in consumers:
        await consumer.stop()
    for camera in cameras:
        await hub.entities.remove(camera.entity_id)
    emit(
        "cameras_at_5fps_720p",
        value=best["cameras"] if best else 0,
        unit="cameras",
        cpu_percent_per_camera=best["cpu_percent_per_camera"] if best else None,
        hub_cpu_percent=best["hub_cpu_percent"] if best else None,
        cpu_ceiling_percent=CPU_CEILING,
        convert=args.convert,
    )


async def memory(hub: Any, url: str, count: int) -> None:
    gc.collect()
    await asyncio.sleep(1.0)
    before = rss_bytes()
    cameras = await add_cameras(hub, url, 1000, count)
    consumers = [Consumer(hub, camera, TARGET_FPS, False) for camera in cameras]
    deadline = time.monotonic() + 30
    while any(consumer.frames < 10 for consumer in consumers) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    gc.collect()
    after = rss_bytes()
    emit("memory_per_open_stream", value=round((after - before) / count / 1024 / 1024, 2), unit="MiB",
         streams=count, resolution="1280x720")  # fmt: skip
    for consumer in consumers:
        await consumer.stop()
    for camera in cameras:
        await hub.entities.remove(camera.entity_id)


async def snapshots(hub: Any, url: str, requests: int, cold_trials: int) -> None:
    import aiohttp

    from hub.auth.scope import Role

    tenant = await hub.tenants.create("bench")
    await hub.auth.create_user("bench", "a long enough password", tenant_id=tenant.id, role=Role.VIEWER)
    pair = await hub.auth.login("bench", "a long enough password", address="127.0.0.1")
    cameras = []
    for index in range(4):
        from hub.camera import Camera

        device = await hub.devices.claim(tenant.id, "Bench", f"SNAP-{index}", f"Snapshot {index}")
        camera = Camera(name=f"Snap {index}", unique_id=f"snap-{index}", source=url, options={"rtsp_transport": "tcp"})
        await hub.entities.add(camera, platform="bench", device=device)
        cameras.append(camera)
    headers = {"Authorization": f"Bearer {pair.access_token}"}
    async with aiohttp.ClientSession(base_url=hub.http.url, headers=headers) as session:

        async def get(camera: Any, query: str = "") -> float:
            started = time.perf_counter()
            async with session.get(f"/api/camera_proxy/{camera.entity_id}{query}") as response:
                await response.read()
                assert response.status == 200, response.status
            return (time.perf_counter() - started) * 1000.0

        for camera in cameras:  # open them all
            await get(camera)
        for query, label in (("", "1280x720"), ("?width=640", "640x360")):
            latencies = [await get(cameras[index % len(cameras)], query) for index in range(requests)]
            emit("snapshot_latency", mode="warm", size=label, requests=requests, cameras=len(cameras),
                 p50_ms=round(percentile(latencies, 0.5), 2), p99_ms=round(percentile(latencies, 0.99), 2))  # fmt: skip
        cold = []
        for index in range(cold_trials):
            camera = cameras[index % len(cameras)]
            await hub.streams.async_close(camera.entity_id)
            cold.append(await get(camera))
        emit("snapshot_latency", mode="cold", size="1280x720", requests=cold_trials,
             p50_ms=round(percentile(cold, 0.5), 2), p99_ms=round(percentile(cold, 0.99), 2))  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    from hub.bootstrap import start_hub
    from hub.testing import free_port
    from hub.testing.rtsp import RtspServer

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = RtspServer(mounts={"/live": (1280, 720, 25)}, pattern=args.pattern, motion=args.motion)
    await server.async_start()
    assert server.pid is not None
    with tempfile.TemporaryDirectory() as directory:
        raw = {"http": {"host": "127.0.0.1", "port": free_port()}, "logger": {"default": "warning"}}
        hub = await start_hub(directory, raw_config=raw)
        try:
            hub.streams.idle_timeout = 1.0  # memory and ramp steps close their streams quickly
            await memory(hub, server.url, args.memory_cameras)  # first: freed decoders would hide the growth
            if not args.skip_ramp:
                await ramp(hub, server.url, server.pid, args)
            hub.streams.idle_timeout = 10.0  # the default: a dashboard refreshing stills keeps its decoders
            await snapshots(hub, server.url, args.snapshots, args.cold)
        finally:
            await hub.stop()
            await server.async_stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6.0, help="steady-state seconds per ramp step")
    parser.add_argument("--max-cameras", type=int, default=96)
    parser.add_argument("--convert", action="store_true", help="also convert every delivered frame to BGR")
    parser.add_argument("--memory-cameras", type=int, default=8)
    parser.add_argument("--snapshots", type=int, default=200)
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--skip-ramp", action="store_true")
    parser.add_argument("--pattern", default="smpte", help="GStreamer videotestsrc pattern the camera shows")
    parser.add_argument("--motion", type=int, default=4, help="pixels the picture scrolls per frame (0: still)")
    asyncio.run(main(parser.parse_args()))
