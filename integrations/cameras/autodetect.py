"""Auto-detect: given an address and credentials, find every way the camera serves video and pick the best.

ONVIF first (the ONVIF integration's ``probe_onvif``: the camera names its own stream URIs), then the URL
templates of the manufacturer (given, or named by ONVIF), or of every brand when neither is known. Candidates
are triaged cheaply before a decoder is opened: ports that refuse connections are skipped, RTSP paths are
``DESCRIBE``d (a wrong path answers 404 in a millisecond), snapshot URLs fetched once. What survives is opened
with PyAV (``measure``): response time, resolution, fps and codec. The recommended result is the main stream with
the most pixels, ONVIF's before a template's, then the fastest.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from hub.exceptions import ConfigEntryAuthFailed
from hub.redact import redact_url

from .camera_http import CameraAuthError, CameraHttpError, fetch_image
from .checks import rtmp_handshake
from .const import (
    STREAM_MAIN,
    STREAM_SUB,
    TYPE_HTTP_MJPEG,
    TYPE_HTTP_SNAPSHOT,
    TYPE_ONVIF,
    TYPE_RTMP,
    TYPE_RTSP,
    TYPE_RTSPS,
)
from .measure import Measurement, measure_stream
from .onvif_link import OnvifStreams, find_onvif_streams
from .profiles import PROFILES, STREAM_MJPEG, STREAM_SNAPSHOT, ManufacturerProfile, profile_for
from .rtsp_describe import RtspError, describe
from .runtime import CamerasRuntime
from .urls import generate_url, split_userinfo

_LOGGER = logging.getLogger(__name__)

#: The first pass (connect, DESCRIBE, one snapshot GET) runs this many requests at once.
TRIAGE_CONCURRENCY = 16
DEFAULT_TIMEOUT = 8.0
TRIAGE_TIMEOUT = 3.0

_STREAM_RANK = {STREAM_MAIN: 0, STREAM_SUB: 1, STREAM_MJPEG: 2, STREAM_SNAPSHOT: 3}
_TYPE_RANK = {TYPE_RTSP: 0, TYPE_RTSPS: 0, TYPE_RTMP: 1, TYPE_HTTP_MJPEG: 2, TYPE_HTTP_SNAPSHOT: 3}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One URL to try. ``url`` carries the credentials; ``config`` is the entry data that would use it (no
    password), so the dashboard can create the camera from a result."""

    origin: str  # "onvif" or "template"
    manufacturer: str
    stream: str
    connection_type: str
    url: str
    config: dict[str, Any]
    note: str = ""


@dataclass(slots=True)
class CandidateResult:
    candidate: Candidate
    measurement: Measurement

    def rank(self) -> tuple[Any, ...]:
        m, c = self.measurement, self.candidate
        pixels = (m.width or 0) * (m.height or 0)
        return (_STREAM_RANK.get(c.stream, 9), -pixels, _TYPE_RANK.get(c.connection_type, 9),
                0 if c.origin == "onvif" else 1, m.response_time_ms or 0.0)  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        c = self.candidate
        return {
            "source": c.origin,
            "manufacturer": c.manufacturer,
            "stream": c.stream,
            "connection_type": c.connection_type,
            "url": redact_url(c.url),
            "note": c.note,
            "config": c.config,
            **self.measurement.as_dict(),
        }


@dataclass(slots=True)
class Detection:
    host: str
    results: list[CandidateResult] = field(default_factory=list)
    onvif: dict[str, Any] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    @property
    def recommended(self) -> CandidateResult | None:
        working = [result for result in self.results if result.measurement.ok]
        return min(working, key=CandidateResult.rank) if working else None

    def as_dict(self) -> dict[str, Any]:
        best = self.recommended
        ordered = sorted(self.results, key=lambda result: (not result.measurement.ok, result.rank()))
        return {
            "success": best is not None,
            "host": self.host,
            "onvif": self.onvif,
            "recommended": best.as_dict() if best else None,
            "recommended_method": best.candidate.connection_type if best else None,
            "recommended_url": redact_url(best.candidate.url) if best else None,
            "recommended_config": best.candidate.config if best else None,
            "all_results": [result.as_dict() for result in ordered],
            "tested": len(self.results),
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def template_candidates(
    profiles: Iterable[ManufacturerProfile],
    host: str,
    *,
    username: str,
    password: str,
    channel: int = 1,
    ports: Mapping[str, int] | None = None,
    streams: Iterable[str] = (STREAM_MAIN, STREAM_SUB, STREAM_MJPEG, STREAM_SNAPSHOT),
) -> list[Candidate]:
    """The templates of these brands as candidates, one per distinct URL (brands share many paths).

    ``ports`` replaces the templates' ports per connection type (a camera whose RTSP or HTTP port was moved)."""
    ports = ports or {}
    wanted = set(streams)
    seen: set[tuple[str, int, str]] = set()
    candidates: list[Candidate] = []
    for profile in profiles:
        for template in profile.templates:
            if template.stream not in wanted:
                continue
            template_port = ports.get(template.connection_type)
            generated = generate_url(profile, template, host, username=username, password=password,
                                     channel=channel, port=template_port)  # fmt: skip
            identity = (generated.connection_type, generated.port, template.path)
            if identity in seen:
                continue
            seen.add(identity)
            stream = template.stream if template.stream in (STREAM_MAIN, STREAM_SUB) else STREAM_MAIN
            config = {
                "connection_type": template.connection_type,
                "host": host,
                "port": generated.port,
                "path": template.path,
                "manufacturer": profile.key,
                "channel": channel,
                "stream": stream,
                "username": username,
            }
            candidates.append(Candidate("template", profile.key, template.stream, template.connection_type,
                                        generated.url, config, template.note))  # fmt: skip
    return candidates


def onvif_candidates(found: OnvifStreams, host: str, onvif_port: int, username: str) -> list[Candidate]:
    """One candidate per ONVIF profile: the first is the main stream, the next the sub stream."""
    candidates = []
    for index, stream in enumerate(found.streams):
        kind = STREAM_MAIN if index == 0 else STREAM_SUB
        config = {"connection_type": TYPE_ONVIF, "host": host, "port": onvif_port,
                  "manufacturer": found.manufacturer_key, "stream": kind, "username": username}  # fmt: skip
        scheme = urlsplit(stream.uri).scheme
        connection_type = TYPE_RTSPS if scheme == "rtsps" else TYPE_RTSP
        note = f"ONVIF profile {stream.token}" + (f" ({stream.name})" if stream.name else "")
        candidates.append(Candidate("onvif", found.manufacturer_key, kind, connection_type, stream.uri, config, note))
        if index == 1:
            break
    return candidates


async def auto_detect(
    runtime: CamerasRuntime,
    host: str,
    *,
    username: str = "",
    password: str = "",
    manufacturer: str | None = None,
    port: int | None = None,
    http_port: int | None = None,
    onvif_port: int | None = None,
    channel: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    use_onvif: bool = True,
) -> Detection:
    """Every way ``host`` serves video, measured; see the module docstring. Never raises for the camera's
    failures: they are results (``success: false`` with the error)."""
    started = time.perf_counter()
    detection = Detection(host)
    profile = profile_for(manufacturer) if manufacturer else None
    onvif_found: OnvifStreams | None = None
    if use_onvif and (profile is None or profile.onvif):
        chosen_port = onvif_port or (profile.onvif_port if profile else 80)
        onvif_found, detection.onvif = await find_onvif_streams(
            host, chosen_port, username, password, timeout=min(timeout, 10.0)
        )
        if onvif_found is not None:
            candidates = onvif_candidates(onvif_found, host, chosen_port, username)
            detection.results.extend(await asyncio.gather(*(_measure(runtime, c, timeout) for c in candidates)))
    if profile is None and onvif_found is not None:
        profile = profile_for(onvif_found.manufacturer_key)
    onvif_works = any(result.measurement.ok for result in detection.results)
    if profile is not None and profile.key != "generic":
        profiles: list[ManufacturerProfile] = [profile]
    elif onvif_works:
        profiles = []  # ONVIF named the streams: no need to knock on every brand's door
    else:
        profiles = list(PROFILES)
    streams = (STREAM_MAIN, STREAM_SUB, STREAM_MJPEG, STREAM_SNAPSHOT) if profile else (STREAM_MAIN, STREAM_MJPEG)
    ports: dict[str, int] = {}
    if port:
        ports[TYPE_RTSP] = port
    if http_port:
        ports.update({TYPE_HTTP_MJPEG: http_port, TYPE_HTTP_SNAPSHOT: http_port})
    candidates = template_candidates(profiles, host, username=username, password=password, channel=channel,
                                     ports=ports, streams=streams)  # fmt: skip
    detection.results.extend(await _try_all(runtime, candidates, timeout))
    detection.elapsed_ms = (time.perf_counter() - started) * 1000.0
    best = detection.recommended
    _LOGGER.info("Auto-detect %s: %d candidates, %d working, recommended %s (%.0f ms)", host,
                 len(detection.results), sum(1 for r in detection.results if r.measurement.ok),
                 redact_url(best.candidate.url) if best else None, detection.elapsed_ms)  # fmt: skip
    return detection


async def _try_all(runtime: CamerasRuntime, candidates: list[Candidate], timeout: float) -> list[CandidateResult]:
    """Triage every candidate (bounded), then measure the survivors (bounded by the probe threads)."""
    open_ports = await _open_ports({(_host_port(c.url)) for c in candidates})
    triage_slots = asyncio.Semaphore(TRIAGE_CONCURRENCY)

    async def one(candidate: Candidate) -> CandidateResult:
        if not open_ports.get(_host_port(candidate.url), False):
            port = _host_port(candidate.url)[1]
            return CandidateResult(candidate, Measurement(False, error=f"nothing listens on port {port}"))
        async with triage_slots:
            failed = await _triage(runtime, candidate)
        if failed is not None:
            return CandidateResult(candidate, failed)
        return await _measure(runtime, candidate, timeout)

    return list(await asyncio.gather(*(one(candidate) for candidate in candidates)))


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    defaults = {"rtsp": 554, "rtsps": 322, "rtmp": 1935, "http": 80, "https": 443}
    return parts.hostname or "", parts.port or defaults.get(parts.scheme, 80)


async def _open_ports(addresses: Iterable[tuple[str, int]]) -> dict[tuple[str, int], bool]:
    async def is_open(address: tuple[str, int]) -> bool:
        try:
            async with asyncio.timeout(TRIAGE_TIMEOUT):
                _, writer = await asyncio.open_connection(*address)
        except (OSError, TimeoutError):
            return False
        writer.close()
        return True

    targets = list(addresses)
    answers = await asyncio.gather(*(is_open(address) for address in targets))
    return dict(zip(targets, answers, strict=True))


async def _triage(runtime: CamerasRuntime, candidate: Candidate) -> Measurement | None:
    """A cheap first request; a Measurement (failed, or complete for snapshots) ends the candidate here."""
    try:
        if candidate.connection_type in (TYPE_RTSP, TYPE_RTSPS):
            await describe(candidate.url, timeout=TRIAGE_TIMEOUT)
        elif candidate.connection_type == TYPE_RTMP:
            await rtmp_handshake(candidate.url, timeout=TRIAGE_TIMEOUT)
        elif candidate.connection_type == TYPE_HTTP_SNAPSHOT:
            return await _measure_snapshot(runtime, candidate)
    except (CameraAuthError, ConfigEntryAuthFailed) as err:
        return Measurement(False, error=str(err), auth_failed=True)
    except RtspError as err:
        return Measurement(False, error=str(err))
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as err:
        return Measurement(False, error=f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
    return None


async def _measure_snapshot(runtime: CamerasRuntime, candidate: Candidate) -> Measurement:
    """A snapshot candidate is measured by fetching one image: its size is the resolution."""
    url, username, password = split_userinfo(candidate.url)
    started = time.perf_counter()
    try:
        image = await fetch_image(runtime.session, url, username=username, password=password,
                                  timeout=TRIAGE_TIMEOUT)  # fmt: skip
    except CameraAuthError as err:
        return Measurement(False, error=str(err), auth_failed=True)
    except CameraHttpError as err:
        return Measurement(False, error=str(err))
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        return Measurement(False, error=f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
    elapsed = (time.perf_counter() - started) * 1000.0
    width, height = _jpeg_size(image)
    return Measurement(True, elapsed, width, height, None, "mjpeg")


def _jpeg_size(image: bytes) -> tuple[int | None, int | None]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as picture:
            return picture.width, picture.height
    except OSError:
        return None, None


async def _measure(runtime: CamerasRuntime, candidate: Candidate, timeout: float) -> CandidateResult:
    options: dict[str, str] = {}
    stream_format = None
    if candidate.connection_type in (TYPE_RTSP, TYPE_RTSPS):
        options["rtsp_transport"] = "tcp"
    elif candidate.connection_type == TYPE_HTTP_MJPEG:
        stream_format = "mpjpeg"
    async with runtime.probe_slots:
        measurement = await measure_stream(candidate.url, options=options, stream_format=stream_format,
                                           timeout=timeout, executor=runtime.executor)  # fmt: skip
    return CandidateResult(candidate, measurement)
