"""Auto-detect: time from ``POST /api/discovery/auto-detect`` to its answer, against real cameras on loopback.

A real hub (SQLite, HTTP on 127.0.0.1, the cameras and onvif integrations) and GStreamer RTSP servers
(``hub.testing.rtsp.RtspServer``, 1280x720 25 fps H.264, keyframe every second) run in this process's machine;
each figure is the median of ``--runs`` calls (after one warm-up), printed as one JSON line with min and max:

1. ``autodetect_onvif_ms``: an ONVIF camera (the ONVIF simulator, its stream URI pointing at the RTSP server):
   the probe, then both profiles' streams opened and measured, then the brand's templates triaged.
2. ``autodetect_rtsp_known_brand_ms``: a non-ONVIF camera serving Hikvision's paths, manufacturer given.
3. ``autodetect_rtsp_unknown_brand_ms``: a non-ONVIF camera at ``/live``, no manufacturer: every brand's
   templates are triaged with RTSP DESCRIBE (404 in a millisecond), the survivors opened with PyAV.

Run: ``.venv/bin/python benchmarks/autodetect_bench.py [--runs 5]``. Needs GStreamer's RTSP server for
/usr/bin/python3 (``make install``); prints ``{"skipped": ...}`` without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import aiohttp

from hub.bootstrap import start_hub
from hub.testing import free_port
from hub.testing.rtsp import RtspServer, gstreamer_rtsp_available

ADMIN, PASSWORD = "bench", "a long benchmark password"


async def timed_detect(session: aiohttp.ClientSession, url: str, token: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    async with session.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
        answer = await response.json()
    elapsed = (time.perf_counter() - started) * 1000.0
    if response.status != 200 or not answer.get("success"):
        raise RuntimeError(f"auto-detect failed: {response.status} {answer}")
    return elapsed


def figure(name: str, samples: list[float], **extra: Any) -> None:
    line = {"figure": name, "value": round(statistics.median(samples), 1), "unit": "ms",
            "min": round(min(samples), 1), "max": round(max(samples), 1), "runs": len(samples), **extra}  # fmt: skip
    print(json.dumps(line), flush=True)


async def main(runs: int) -> None:
    from integrations.onvif.simulator import OnvifSimulator

    generic = RtspServer()
    hikvision = RtspServer(
        mounts={"/Streaming/Channels/101": (1280, 720, 25), "/Streaming/Channels/102": (640, 360, 10)}
    )
    await asyncio.gather(generic.async_start(), hikvision.async_start())
    with tempfile.TemporaryDirectory() as config_dir:
        hub = await start_hub(Path(config_dir), raw_config={"http": {"host": "127.0.0.1", "port": free_port()}},
                              http=True)  # fmt: skip
        try:
            await hub.auth.onboard(ADMIN, PASSWORD, name="Benchmark")
            token = (await hub.auth.login(ADMIN, PASSWORD, address="127.0.0.1")).access_token
            url = hub.http.url + "/api/discovery/auto-detect"
            closed = free_port()
            onvif = OnvifSimulator(rtsp_url=generic.url_for("/live"), sub_rtsp_url=generic.url_for("/sub"),
                                   username="admin", password="secret")  # fmt: skip
            async with onvif, aiohttp.ClientSession() as session:
                cases = {
                    "autodetect_onvif_ms": {"host": "127.0.0.1", "onvif_port": onvif.port, "port": generic.port,
                                            "username": "admin", "password": "secret"},
                    "autodetect_rtsp_known_brand_ms": {"host": "127.0.0.1", "port": hikvision.port,
                                                       "onvif_port": closed, "manufacturer": "hikvision"},
                    "autodetect_rtsp_unknown_brand_ms": {"host": "127.0.0.1", "port": generic.port,
                                                         "onvif_port": closed},
                }  # fmt: skip
                for name, body in cases.items():
                    await timed_detect(session, url, token, body)  # warm-up: GStreamer builds its pipelines
                    samples = [await timed_detect(session, url, token, body) for _ in range(runs)]
                    figure(name, samples)
        finally:
            await hub.stop()
            generic.stop()
            hikvision.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    if not gstreamer_rtsp_available():
        print(json.dumps({"skipped": "GStreamer's RTSP server is not installed for /usr/bin/python3"}))
        raise SystemExit(0)
    asyncio.run(main(arguments.runs))
