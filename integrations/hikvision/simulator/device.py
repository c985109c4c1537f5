"""``IsapiDeviceSimulator``: a Hikvision camera, NVR or access terminal speaking ISAPI over a real aiohttp server.

Real Digest (or Basic) login with the account lock-out, deviceInfo, the alertStream, httpHosts push, and (through
``access.py`` and ``media.py``) users, cards, faces, doors, AcsEvent history, channels and snapshots.

The test API: ``emit_event`` / ``emit_access`` (streamed, pushed, and for access events kept in the AcsEvent
history with a monotonic serialNo), ``record_offline_access`` (history only: what happened while the hub was away),
``events_per_second`` (a background emitter), ``write_times`` (``time.time()`` just before an event's first
write to a stream or push, for delay figures; keyed by the serialNo of access events and the activePostCount of
other events), ``inject`` (one-shot faults), ``disconnect_streams``,
``set_password``, ``unlock``, and counters (``requests`` by path, ``failed_auth_attempts``).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from aiohttp import web

from .access import AccessControl
from .auth import AuthScheme, DeviceAuth
from .documents import document, isapi_errors, response_status
from .events import REQUEST_FAULTS, STREAM_FAULTS, DeviceIdentity, EventFormat, SimEvent, stream_part
from .media import Media
from .people import People
from .push import HttpHostPusher
from .streams import PartStream, serve_stream

_LOGGER = logging.getLogger(__name__)

DeviceKind = Literal["camera", "nvr", "access"]
EventListener = Callable[["IsapiDeviceSimulator", SimEvent], None]

DEFAULT_MODELS: dict[str, str] = {"access": "DS-K1T671M", "camera": "DS-2CD2143G2-I", "nvr": "DS-7608NI-K2"}
DEVICE_TYPES: dict[str, str] = {"access": "ACS", "camera": "IPCamera", "nvr": "NVR"}
WRITE_TIMES_KEPT = 200_000
_HTML_ERROR = (
    b"<!DOCTYPE html><html><head><title>Document Error: Internal Server Error</title></head>"
    b"<body><h2>Access Error: 500 -- Internal Server Error</h2><p>Server is busy</p></body></html>"
)


class IsapiDeviceSimulator:
    """One simulated ISAPI device on ``url``; an async context manager (or ``start()`` / ``stop()``)."""

    def __init__(
        self,
        serial: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "admin",
        password: str = "Passw0rd!",
        auth: AuthScheme = "digest",
        kind: DeviceKind = "access",
        channels: int = 1,
        doors: int = 1,
        lock_after_failures: int = 5,
        model: str | None = None,
        name: str | None = None,
        firmware: str = "V5.7.12 build 230512",
        keepalive_interval: float = 10.0,
        events_per_second: float = 0.0,
        nonce_lifetime: float = 300.0,
        rtsp_port: int = 554,
        time_zone: tzinfo = UTC,
        max_results: int = 30,
        history_limit: int = 100_000,
    ) -> None:
        if kind not in DEVICE_TYPES:
            raise ValueError(f"kind must be one of {', '.join(DEVICE_TYPES)}, not {kind!r}")
        self.serial = serial
        self.host = host
        self.kind: DeviceKind = kind
        self.channels = max(1, channels)
        self.model = model or DEFAULT_MODELS[kind]
        self.name = name or f"{self.model} {serial[-6:]}"
        self.firmware = firmware
        self.keepalive_interval = keepalive_interval
        self.rtsp_port = rtsp_port
        self.time_zone = time_zone
        self.mac_address = _mac_for(serial)
        self.device_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"hikvision:{serial}"))
        self.auth = DeviceAuth(
            username,
            password,
            realm=f"{DEVICE_TYPES[kind]}({serial[-5:]})",
            scheme=auth,
            lock_after_failures=lock_after_failures,
            nonce_lifetime=nonce_lifetime,
        )
        self.requests: Counter[str] = Counter()
        self.write_times: dict[int, float] = {}
        self.access = AccessControl(self, doors=doors, max_results=max_results, history_limit=history_limit)
        self.people = People(self, max_results=max_results)
        self.media = Media(self)
        self.pusher = HttpHostPusher(self)
        self._port = port
        self._bound_port = 0
        self._seq = itertools.count(1)
        self._streams: set[PartStream] = set()
        self._listeners: list[EventListener] = []
        self._stream_faults: list[str] = []
        self._request_faults: list[str] = []
        self._runner: web.AppRunner | None = None
        self._emitter: asyncio.Task[None] | None = None
        self._events_per_second = events_per_second
        self._identity = self.identity

    # ---------------------------------------------------------------------------------------- life cycle

    @property
    def port(self) -> int:
        return self._bound_port or self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def username(self) -> str:
        return self.auth.username

    @property
    def password(self) -> str:
        return self.auth.password

    @property
    def identity(self) -> DeviceIdentity:
        return DeviceIdentity(self.host, self.port, self.mac_address, self.serial, self.name)

    async def start(self) -> None:
        app = web.Application(middlewares=[isapi_errors, self._count_and_fault])
        app.router.add_get("/ISAPI/System/deviceInfo", self._device_info)
        app.router.add_get("/ISAPI/Event/notification/alertStream", self._alert_stream)
        self.pusher.add_routes(app.router)
        self.access.add_routes(app.router)
        self.people.add_routes(app.router)
        self.media.add_routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self._bound_port = int(sockets[0].getsockname()[1]) if sockets else self._port
        self._identity = self.identity
        self.pusher.start()
        if self._events_per_second > 0:
            self._start_emitter()

    async def stop(self) -> None:
        self._stop_emitter()
        for stream in list(self._streams):
            stream.close()
        await self.pusher.stop()
        self.access.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> IsapiDeviceSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------------------------------- test API

    def emit_event(
        self, event_type: str, *, channel: int | None = 1, active: bool = True, picture: bytes | None = None
    ) -> int:
        """A camera-style event (``vmd``, ``linedetection``, ``tamperdetection``, ``io``...); returns its seq."""
        return self.publish(self.new_event(event_type, active=active, channel=channel, picture=picture))

    def emit_access(
        self,
        major: int = 5,
        minor: int = 75,
        *,
        employee_no: str | None = "1",
        name: str | None = None,
        door: int = 1,
        card_no: str | None = None,
        reader: int = 1,
        verify_mode: str = "cardOrFace",
        picture: bool = False,
    ) -> int:
        """An AccessControllerEvent, streamed and pushed and kept in the history; returns its serialNo."""
        record = self.access.record_event(
            major, minor, employee_no=employee_no, name=name, door=door, card_no=card_no, reader=reader,
            verify_mode=verify_mode, when=None,
        )  # fmt: skip
        event = self.new_event("AccessControllerEvent", active=True, channel=None, seq=record["serialNo"])
        event.date_time = record["time"]
        event.access = self.access.stream_block(record)
        if picture:
            event.picture = self.media.jpeg(1)
        self.publish(event)
        return int(record["serialNo"])

    def record_offline_access(
        self,
        major: int = 5,
        minor: int = 75,
        *,
        employee_no: str | None = "1",
        name: str | None = None,
        door: int = 1,
        card_no: str | None = None,
        when: datetime | None = None,
    ) -> int:
        """An access event kept in the history but never streamed: it happened while the hub was away."""
        record = self.access.record_event(
            major, minor, employee_no=employee_no, name=name, door=door, card_no=card_no, reader=1,
            verify_mode="cardOrFace", when=when,
        )  # fmt: skip
        return int(record["serialNo"])

    @property
    def events_per_second(self) -> float:
        return self._events_per_second

    @events_per_second.setter
    def events_per_second(self, rate: float) -> None:
        self._events_per_second = max(0.0, rate)
        self._stop_emitter()
        if self._events_per_second > 0 and self._runner is not None:
            self._start_emitter()

    def inject(self, fault: str, count: int = 1) -> None:
        """One-shot faults. Stream faults hit the next ``count`` events written (``malformed_xml``,
        ``malformed_json``, ``wrong_boundary``, ``truncate`` (half a part, then the connection is cut),
        ``bogus_time``); request faults the next ``count`` authenticated requests (``html_error``: a 500 HTML
        page, ``device_busy``: 503 with statusCode 3)."""
        if fault in STREAM_FAULTS:
            self._stream_faults.extend([fault] * count)
        elif fault in REQUEST_FAULTS:
            self._request_faults.extend([fault] * count)
        else:
            known = ", ".join(sorted(STREAM_FAULTS | REQUEST_FAULTS))
            raise ValueError(f"unknown fault {fault!r}; known: {known}")

    def disconnect_streams(self) -> None:
        """Cut every open alertStream connection (a reboot or a network drop, seen from the client)."""
        for stream in list(self._streams):
            stream.abort()

    def set_password(self, password: str) -> None:
        self.auth.set_password(password)

    def unlock(self) -> None:
        self.auth.unlock()

    @property
    def failed_auth_attempts(self) -> int:
        return self.auth.failed_attempts

    @property
    def locked(self) -> bool:
        return self.auth.locked

    @property
    def stream_count(self) -> int:
        """How many alertStream clients are connected right now."""
        return len(self._streams)

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener(device, event)`` for every event published (the gateway forwards them); returns the
        function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # ---------------------------------------------------------------------------------------- events

    def new_event(
        self,
        event_type: str,
        *,
        active: bool,
        channel: int | None,
        seq: int | None = None,
        picture: bytes | None = None,
    ) -> SimEvent:
        return SimEvent(
            seq=next(self._seq) if seq is None else seq,
            event_type=event_type,
            active=active,
            channel=channel,
            date_time=self.now_text(),
            picture=picture,
        )

    def publish(self, event: SimEvent) -> int:
        """Write ``event`` to every open stream, the httpHosts target and the listeners."""
        if self._stream_faults and not event.keepalive:
            event.fault = self._stream_faults.pop(0)
        fmt = self.stream_format
        if self._streams:
            part = stream_part(self._identity, event, fmt)
            truncate = event.fault == "truncate"
            for stream in list(self._streams):
                stream.offer(event.seq, part[: len(part) // 2] if truncate else part, abort_after=truncate)
        self.pusher.offer(event)
        for listener in list(self._listeners):
            listener(self, event)
        return event.seq

    @property
    def stream_format(self) -> EventFormat:
        return "json" if self.kind == "access" else "xml"

    def note_write(self, seq: int, when: float) -> None:
        if seq not in self.write_times:
            if len(self.write_times) >= WRITE_TIMES_KEPT:
                for old in list(itertools.islice(self.write_times, WRITE_TIMES_KEPT // 10)):
                    del self.write_times[old]
            self.write_times[seq] = when

    def now_text(self, when: datetime | None = None) -> str:
        moment = (when or datetime.now(self.time_zone)).astimezone(self.time_zone)
        return moment.isoformat(timespec="seconds")

    def _keepalive(self) -> bytes:
        event = self.new_event("videoloss", active=False, channel=1)
        event.keepalive = True
        return stream_part(self._identity, event, self.stream_format)

    def _start_emitter(self) -> None:
        self._emitter = asyncio.get_running_loop().create_task(self._emit_forever(self._events_per_second))

    def _stop_emitter(self) -> None:
        if self._emitter is not None:
            self._emitter.cancel()
            self._emitter = None

    async def _emit_forever(self, rate: float) -> None:
        """Events at ``rate`` per second without drift: access grants cycling over 10 people, or motion."""
        loop = asyncio.get_running_loop()
        interval = 1.0 / rate
        deadline = loop.time()
        for number in itertools.count():
            deadline += interval
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            if self.kind == "access":
                person = number % 10 + 1
                self.emit_access(5, 75, employee_no=str(person), name=f"Person {person}")
            else:
                self.emit_event("VMD", channel=number % self.channels + 1, active=number % 2 == 0)

    # ---------------------------------------------------------------------------------------- HTTP

    @web.middleware
    async def _count_and_fault(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        self.requests[request.path] += 1
        refusal = self.auth.check(request)
        if refusal is not None:
            return refusal
        if self._request_faults:
            fault = self._request_faults.pop(0)
            if fault == "html_error":
                return web.Response(status=500, body=_HTML_ERROR, content_type="text/html")
            return response_status(request, status_code=3, sub_status="deviceBusy", http_status=503)
        response: web.StreamResponse = await handler(request)
        return response

    async def _device_info(self, request: web.Request) -> web.Response:
        return document(request, "DeviceInfo", self.device_info())

    def device_info(self) -> dict[str, Any]:
        return {
            "deviceName": self.name,
            "deviceID": self.device_id,
            "deviceDescription": DEVICE_TYPES[self.kind],
            "deviceLocation": "hangzhou",
            "model": self.model,
            "serialNumber": self.serial,
            "macAddress": self.mac_address,
            "firmwareVersion": self.firmware.split(" build ")[0],
            "firmwareReleasedDate": "build " + self.firmware.split(" build ")[-1],
            "encoderVersion": "V7.3",
            "encoderReleasedDate": "build 230101",
            "deviceType": DEVICE_TYPES[self.kind],
            "telecontrolID": 88,
            "hardwareVersion": "0x0",
        }

    async def _alert_stream(self, request: web.Request) -> web.StreamResponse:
        stream = PartStream()
        self._streams.add(stream)
        try:
            return await serve_stream(
                request,
                stream,
                keepalive=self._keepalive,
                keepalive_interval=self.keepalive_interval,
                on_write=self.note_write,
            )
        finally:
            self._streams.discard(stream)


def _mac_for(serial: str) -> str:
    digest = hashlib.sha256(serial.encode()).digest()
    return "44:19:b6:" + ":".join(f"{byte:02x}" for byte in digest[:3])


__all__ = ["DEFAULT_MODELS", "DEVICE_TYPES", "DeviceKind", "IsapiDeviceSimulator"]
