"""httpHosts: where the device pushes its events (the "HTTP listening" mode). ``GET``/``PUT``/``POST``/``DELETE``
``/ISAPI/Event/notification/httpHosts`` in XML or JSON; once a host is set, each event is POSTed there in order:
access terminals send ``multipart/form-data`` with an ``event_log`` JSON part (and a ``Picture`` JPEG when the
event has one), cameras an ``EventNotificationAlert`` body in the host's ``parameterFormatType``.

A failed POST is counted and logged; the event stays in the device's AcsEvent history for the hub to backfill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from yarl import URL

from .documents import (
    as_list,
    bad_parameter,
    document,
    json_response,
    local_name,
    parse_xml,
    read_json,
    response_status,
    wants_json,
    xml_fields,
)
from .events import BOUNDARY, WRONG_BOUNDARY, EventFormat, SimEvent, event_body

if TYPE_CHECKING:
    from .device import IsapiDeviceSimulator

_LOGGER = logging.getLogger(__name__)
PATH = "/ISAPI/Event/notification/httpHosts"
MAX_QUEUED = 10_000


@dataclass(slots=True)
class HttpHost:
    """One HttpHostNotification entry."""

    url: str = ""
    ip_address: str = "0.0.0.0"
    host_name: str = ""
    port: int = 80
    parameter_format: str = "XML"
    protocol: str = "HTTP"

    @property
    def target(self) -> str | None:
        """The URL events are POSTed to, or None while unset."""
        host = self.host_name or self.ip_address
        if not host or host in ("0.0.0.0", "::"):
            return None
        host = f"[{host}]" if ":" in host else host
        path = self.url if self.url.startswith("/") else "/" + self.url
        return f"{self.protocol.lower()}://{host}:{self.port}{path}"

    def fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "id": "1",
            "url": self.url,
            "protocolType": self.protocol,
            "parameterFormatType": self.parameter_format,
            "addressingFormatType": "hostname" if self.host_name else "ipaddress",
            "ipAddress": self.ip_address,
            "portNo": self.port,
            "httpAuthenticationMethod": "none",
        }
        if self.host_name:
            fields["hostName"] = self.host_name
        return fields


class HttpHostPusher:
    """The device's one httpHosts entry and the task that POSTs events to it."""

    def __init__(self, device: IsapiDeviceSimulator) -> None:
        self.device = device
        self.host = HttpHost()
        self.pushed = 0
        self.failures = 0
        self.last_status: int | None = None
        self._queue: asyncio.Queue[SimEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def target(self) -> str | None:
        return self.host.target

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(PATH, self._get)
        router.add_put(PATH, self._set)
        router.add_post(PATH, self._set)
        router.add_delete(PATH, self._delete)
        router.add_get(PATH + "/{id}", self._get)
        router.add_put(PATH + "/{id}", self._set)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._push_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def offer(self, event: SimEvent) -> None:
        if self.host.target is not None and not event.keepalive and self._queue.qsize() < MAX_QUEUED:
            self._queue.put_nowait(event)

    def set_target(self, url: str) -> None:
        """Point pushes at ``url`` (what a PUT of httpHosts does), for the CLI's ``--push-to``."""
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"push target must be an http(s) URL, not {url!r}")
        self.host = HttpHost(
            url=parsed.raw_path_qs or "/",
            ip_address=parsed.host,
            port=parsed.port or 80,
            parameter_format="JSON",
            protocol=parsed.scheme.upper(),
        )

    # ---------------------------------------------------------------------------------------- HTTP

    async def _get(self, request: web.Request) -> web.Response:
        if "id" in request.match_info:
            return document(request, "HttpHostNotification", self.host.fields())
        if wants_json(request):
            return json_response({"HttpHostNotificationList": [{"HttpHostNotification": self.host.fields()}]})
        return document(request, "HttpHostNotificationList", {"HttpHostNotification": [self.host.fields()]})

    async def _set(self, request: web.Request) -> web.Response:
        if wants_json(request) or request.content_type == "application/json":
            entry = _json_entry(await read_json(request))
        else:
            entry = _xml_entry(await request.read())
        self.host = _host_from(entry)
        return response_status(request)

    async def _delete(self, request: web.Request) -> web.Response:
        self.host = HttpHost()
        return response_status(request)

    # ---------------------------------------------------------------------------------------- pushing

    async def _push_forever(self) -> None:
        while True:
            event = await self._queue.get()
            target = self.host.target
            if target is None:
                continue
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
            content_type, body = self._request_body(event)
            self.device.note_write(event.seq, time.time())
            try:
                async with self._session.post(target, data=body, headers={"Content-Type": content_type}) as reply:
                    await reply.read()
                    self.last_status = reply.status
                    if reply.status >= 400:
                        raise aiohttp.ClientResponseError(reply.request_info, (), status=reply.status)
                self.pushed += 1
            except (aiohttp.ClientError, TimeoutError) as err:
                self.failures += 1
                if self.failures % 100 == 1:  # the first failure, then every 100th: a dead hub is not log spam
                    _LOGGER.warning(
                        "%s: push of event %s to %s failed (%d failures so far): %s",
                        self.device.serial, event.seq, target, self.failures, err,
                    )  # fmt: skip

    def _request_body(self, event: SimEvent) -> tuple[str, bytes]:
        identity = self.device.identity
        if self.device.kind != "access":
            fmt: EventFormat = "json" if self.host.parameter_format.upper() == "JSON" else "xml"
            content_type, body = event_body(identity, event, fmt)
            return content_type, _faulted(event, body)
        _, body = event_body(identity, event, "json")
        boundary = WRONG_BOUNDARY if event.fault == "wrong_boundary" else BOUNDARY
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="event_log"\r\n'
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
            + b"\r\n"
        ]
        if event.picture:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="Picture"; filename="Picture.jpg"\r\n'
                f"Content-Type: image/jpeg\r\nContent-Length: {len(event.picture)}\r\n\r\n".encode()
                + event.picture
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        return f"multipart/form-data; boundary={BOUNDARY}", _faulted(event, b"".join(parts))


def _faulted(event: SimEvent, body: bytes) -> bytes:
    return body[: len(body) // 2] if event.fault == "truncate" else body


def _json_entry(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The one HttpHostNotification of any of the JSON shapes firmware accepts."""
    container: Any = payload.get("HttpHostNotificationList", payload)
    for item in as_list(container):
        entry = item.get("HttpHostNotification", item) if isinstance(item, Mapping) else None
        if isinstance(entry, list) and entry:
            entry = entry[0]
        if isinstance(entry, Mapping):
            return entry
    raise bad_parameter("HttpHostNotification")


def _xml_entry(raw: bytes) -> Mapping[str, Any]:
    root = parse_xml(raw)
    if local_name(root.tag) == "HttpHostNotification":
        return xml_fields(root)
    for child in root:
        if local_name(child.tag) == "HttpHostNotification":
            return xml_fields(child)
    raise bad_parameter("HttpHostNotification")


def _host_from(entry: Mapping[str, Any]) -> HttpHost:
    address_format = str(entry.get("addressingFormatType", "ipaddress"))
    host_name = str(entry.get("hostName", "")) if address_format == "hostname" else ""
    ip_address = str(entry.get("ipAddress", "") or "")
    if not host_name and not ip_address:
        raise bad_parameter("ipAddress")
    try:
        port = int(entry.get("portNo", 80))
    except (TypeError, ValueError):
        raise bad_parameter("portNo", "is not a number") from None
    if not 1 <= port <= 65535:
        raise bad_parameter("portNo", "must be 1..65535")
    parameter_format = str(entry.get("parameterFormatType", "XML")).upper()
    if parameter_format not in ("XML", "JSON"):
        raise bad_parameter("parameterFormatType", "must be XML or JSON")
    protocol = str(entry.get("protocolType", "HTTP")).upper()
    if protocol not in ("HTTP", "HTTPS"):
        raise bad_parameter("protocolType", "must be HTTP or HTTPS")
    return HttpHost(
        url=str(entry.get("url", "") or "/"),
        ip_address=ip_address or "0.0.0.0",
        host_name=host_name,
        port=port,
        parameter_format=parameter_format,
        protocol=protocol,
    )
