"""Subnet scan jobs: which hosts of a private network answer on camera ports, and what they speak there.

A job connects to every host and port of a network (at most a /22) with bounded concurrency and a total time
limit, then asks each open port what it is: an RTSP ``OPTIONS``, an RTMP handshake, an HTTP ``GET /`` and an
unauthenticated ONVIF ``GetSystemDateAndTime``. Brand names in the answers (``Server`` headers, realms) give a
manufacturer guess. Jobs belong to the tenant that started them, can be stopped, and are forgotten
``KEEP_FINISHED`` seconds after they end. Only private, loopback and link-local networks are scanned.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from hub.ids import new_id

from .checks import rtmp_handshake
from .profiles import PROFILES

if TYPE_CHECKING:
    from .runtime import CamerasRuntime

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORTS = (554, 8554, 80, 8000, 8080, 443, 88, 2020, 1935)
MAX_ADDRESSES = 1024  # a /22
MAX_RUNNING = 4
CONNECTIONS = 64
CONNECT_TIMEOUT = 1.0
IDENTIFY_TIMEOUT = 2.0
DEFAULT_TIME_LIMIT = 300.0
KEEP_FINISHED = 900.0

ONVIF_TIME_REQUEST = (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
    '<s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>'
)


class ScanRefused(ValueError):
    """A scan request we will not run; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str = "cidr") -> None:
        super().__init__(message)
        self.field = field


def scan_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network of ``cidr`` if we may scan it: private, loopback or link-local, at most a /22."""
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as err:
        raise ScanRefused(f"not a network: {err}") from None
    if network.num_addresses > MAX_ADDRESSES:
        raise ScanRefused(f"{network} has {network.num_addresses} addresses; scan at most a /22 ({MAX_ADDRESSES})")
    if not (network.is_private or network.is_loopback or network.is_link_local):
        raise ScanRefused(f"{network} is not a private network; only local camera networks are scanned")
    return network


def guess_manufacturer(*texts: str | None) -> str | None:
    """The brand whose name or alias appears in a banner (``Server: Hikvision-Webs``)."""
    banner = " ".join(text for text in texts if text).lower()
    if not banner:
        return None
    for profile in PROFILES:
        if profile.key == "generic":
            continue
        for name in (profile.key, *profile.aliases, profile.name.split(" ")[0].lower()):
            if len(name) >= 3 and name in banner:
                return profile.key
    return None


@dataclass
class FoundDevice:
    host: str
    open_ports: list[int] = field(default_factory=list)
    services: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def onvif(self) -> bool:
        return any(service.get("protocol") == "onvif" for service in self.services.values())

    @property
    def manufacturer(self) -> str | None:
        for service in self.services.values():
            if service.get("manufacturer"):
                return str(service["manufacturer"])
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "open_ports": sorted(self.open_ports),
            "services": [{"port": port, **self.services[port]} for port in sorted(self.services)],
            "onvif": self.onvif,
            "manufacturer": self.manufacturer,
        }


@dataclass
class ScanJob:
    id: str
    tenant_id: str | None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    ports: tuple[int, ...]
    time_limit: float
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    status: str = "running"  # running, done, stopped, timed_out, failed
    error: str | None = None
    scanned: int = 0
    found: dict[str, FoundDevice] = field(default_factory=dict)
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @functools.cached_property
    def hosts(self) -> list[str]:
        hosts = list(self.network.hosts()) or [self.network.network_address]
        return [str(host) for host in hosts]

    @property
    def total(self) -> int:
        return len(self.hosts)

    def as_dict(self) -> dict[str, Any]:
        total = self.total
        return {
            "id": self.id,
            "cidr": str(self.network),
            "ports": list(self.ports),
            "status": self.status,
            "error": self.error,
            "scanned_hosts": self.scanned,
            "total_hosts": total,
            "progress": round(100.0 * self.scanned / total, 1) if total else 100.0,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "devices": [self.found[host].as_dict() for host in sorted(self.found, key=_host_order)],
        }


def _host_order(host: str) -> Any:
    return ipaddress.ip_address(host)


class ScanJobs:
    """The scan jobs of one hub."""

    def __init__(self, runtime: CamerasRuntime) -> None:
        self.runtime = runtime
        self._jobs: dict[str, ScanJob] = {}

    def get(self, job_id: str) -> ScanJob | None:
        self._forget_old()
        return self._jobs.get(job_id)

    def all(self) -> list[ScanJob]:
        self._forget_old()
        return list(self._jobs.values())

    def start(
        self,
        cidr: str,
        *,
        tenant_id: str | None,
        ports: Sequence[int] = DEFAULT_PORTS,
        time_limit: float = DEFAULT_TIME_LIMIT,
    ) -> ScanJob:
        network = scan_network(cidr)
        running = [job for job in self._jobs.values() if job.status == "running"]
        if len(running) >= MAX_RUNNING:
            raise ScanRefused(f"{MAX_RUNNING} scans are running already; stop one or wait", "cidr")
        job = ScanJob(new_id(), tenant_id, network, tuple(dict.fromkeys(ports)), time_limit)
        self._jobs[job.id] = job
        job.task = self.runtime.hub.create_background_task(self._run(job), f"camera scan {network}")
        _LOGGER.info("Camera scan %s of %s on ports %s started", job.id, network, ", ".join(map(str, job.ports)))
        return job

    async def stop(self, job: ScanJob) -> None:
        if job.task is not None and not job.task.done():
            job.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.task
        if job.status == "running":
            self._finish(job, "stopped")

    async def stop_all(self) -> None:
        for job in list(self._jobs.values()):
            await self.stop(job)

    def _finish(self, job: ScanJob, status: str, error: str | None = None) -> None:
        job.status, job.error, job.finished_at = status, error, time.time()
        _LOGGER.info("Camera scan %s %s: %d of %d hosts, %d found", job.id, status, job.scanned, job.total,
                     len(job.found))  # fmt: skip

    def _forget_old(self) -> None:
        now = time.time()
        for job_id, job in list(self._jobs.items()):
            if job.finished_at is not None and now - job.finished_at > KEEP_FINISHED:
                del self._jobs[job_id]

    async def _run(self, job: ScanJob) -> None:
        connections = asyncio.Semaphore(CONNECTIONS)
        try:
            async with asyncio.timeout(job.time_limit):
                await _scan_hosts(job, job.hosts, connections, self.runtime.session)
        except TimeoutError:
            self._finish(job, "timed_out", f"the scan took longer than {job.time_limit:g} s")
        except asyncio.CancelledError:
            self._finish(job, "stopped")
            raise
        except Exception as err:  # a bug must end the job visibly, not leave it "running"
            _LOGGER.exception("Camera scan %s failed", job.id)
            self._finish(job, "failed", f"{type(err).__name__}: {err}")
        else:
            self._finish(job, "done")


async def _scan_hosts(
    job: ScanJob, hosts: Iterable[str], connections: asyncio.Semaphore, session: aiohttp.ClientSession
) -> None:
    async def one(host: str) -> None:
        opened = await asyncio.gather(*(_port_open(host, port, connections) for port in job.ports))
        ports = [port for port, is_open in zip(job.ports, opened, strict=True) if is_open]
        if ports:
            device = job.found.setdefault(host, FoundDevice(host, ports))
            for port in ports:
                async with connections:
                    device.services[port] = await identify(host, port, session)
        job.scanned += 1

    await asyncio.gather(*(one(host) for host in hosts))


async def _port_open(host: str, port: int, connections: asyncio.Semaphore) -> bool:
    async with connections:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                _, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True


async def identify(host: str, port: int, session: aiohttp.ClientSession) -> dict[str, Any]:
    """What answers on an open port: RTSP, RTMP, ONVIF or plain HTTP, with a manufacturer guess."""
    banner = await _rtsp_options(host, port)
    if banner is not None:
        return {"protocol": "rtsp", "server": banner, "manufacturer": guess_manufacturer(banner)}
    if port == 1935:
        with contextlib.suppress(OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
            await rtmp_handshake(f"rtmp://{_url_host(host)}:{port}/", timeout=IDENTIFY_TIMEOUT)
            return {"protocol": "rtmp", "server": None, "manufacturer": None}
    return await _http_identify(host, port, session)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _rtsp_options(host: str, port: int) -> str | None:
    """The ``Server`` header of an RTSP server on this port ('' when it names none); None when not RTSP."""
    try:
        async with asyncio.timeout(IDENTIFY_TIMEOUT):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(f"OPTIONS rtsp://{_url_host(host)}:{port}/ RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    text = head.decode("latin-1")
    if not text.startswith("RTSP/"):
        return None
    for line in text.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "server":
            return value.strip()
    return ""


async def _http_identify(host: str, port: int, session: aiohttp.ClientSession) -> dict[str, Any]:
    scheme = "https" if port == 443 else "http"
    base = f"{scheme}://{_url_host(host)}:{port}"
    timeout = aiohttp.ClientTimeout(total=IDENTIFY_TIMEOUT)
    server: str | None = None
    realm: str | None = None
    try:
        async with session.get(base + "/", timeout=timeout, ssl=False, allow_redirects=False) as response:
            server = response.headers.get("Server")
            realm = response.headers.get("WWW-Authenticate")
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return {"protocol": "tcp", "server": None, "manufacturer": None}
    onvif = await _onvif_answers(base, session, timeout)
    return {
        "protocol": "onvif" if onvif else "http",
        "server": server,
        "manufacturer": guess_manufacturer(server, realm),
    }


async def _onvif_answers(base: str, session: aiohttp.ClientSession, timeout: aiohttp.ClientTimeout) -> bool:
    headers = {"Content-Type": "application/soap+xml; charset=utf-8"}
    try:
        async with session.post(
            base + "/onvif/device_service", data=ONVIF_TIME_REQUEST, headers=headers, timeout=timeout, ssl=False
        ) as response:
            body = await response.content.read(65536)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    return b"GetSystemDateAndTimeResponse" in body
