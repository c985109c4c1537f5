"""The Hik Device Gateway's HTTP API (REFERENCE §2a): its device list, adding ISUP 5.0 devices, passthrough to
a device by ``devIndex``, the subscribeDeviceMgmt event stream, and live-view URLs.

ISUP devices register out to the gateway (they sit behind NAT); the hub never reaches them directly. Everything
device-scoped is plain ISAPI on the gateway with ``devIndex=<uuid>`` added, so ``device(dev_index)`` is an
``IsapiClient`` sharing the gateway login.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from yarl import URL

from .events import HikEvent
from .isapi_client import IsapiClient, IsapiConnectionError, IsapiDeviceError
from .values import as_list, integer, text

DEVICE_MGMT = "/ISAPI/ContentMgmt/DeviceMgmt/"
SUBSCRIBE_PATH = "/ISAPI/Event/notification/subscribeDeviceMgmt"
STREAM_MEDIA_PATH = "/ISAPI/System/streamMedia"
HEARTBEAT_TIMEOUT = 30.0  # the gateway's heartbeat is 10 s; its guide says re-subscribe after 30 s of silence
DEFAULT_RTSP_PORT = 554
_SERIAL_KEYS = ("devSerial", "serialNumber", "devSerialNo", "serialNo")
_MAX_PAGES = 10_000


@dataclass(slots=True, frozen=True)
class GatewayDevice:
    """One device the gateway knows. ``serial`` only when the gateway reports one; ISUP installs usually set
    the EhomeID (``ehome_id``) to the device's serial, so match a claimed serial against both."""

    dev_index: str
    name: str | None
    model: str | None
    dev_type: str | None
    protocol: str | None
    online: bool
    ehome_id: str | None
    serial: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def parse_gateway_device(fields: Mapping[str, Any]) -> GatewayDevice:
    """A ``Device`` object of deviceList (or of a gateway webhook) as ``GatewayDevice``.

    Raises ``ValueError`` naming the field when ``devIndex`` is missing."""
    dev_index = text(fields.get("devIndex"))
    if dev_index is None:
        raise ValueError("Device.devIndex is missing")
    ehome = fields.get("EhomeParams")
    ehome_id = text(ehome.get("EhomeID")) if isinstance(ehome, Mapping) else None
    serial = next((value for key in _SERIAL_KEYS if (value := text(fields.get(key))) is not None), None)
    return GatewayDevice(
        dev_index=dev_index,
        name=text(fields.get("devName")),
        model=text(fields.get("devMode")) or text(fields.get("devModel")),
        dev_type=text(fields.get("devType")),
        protocol=text(fields.get("protocolType")),
        online=str(fields.get("devStatus", "")).lower() == "online",
        ehome_id=ehome_id,
        serial=serial,
        raw=dict(fields),
    )


class GatewayClient:
    """One gateway account. The aiohttp session belongs to the caller."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._client = IsapiClient(session, base_url, username, password, timeout=timeout)
        self.base_url = self._client.base_url

    @property
    def username(self) -> str:
        return self._client.username

    @property
    def isapi(self) -> IsapiClient:
        """The gateway's own ISAPI (deviceInfo of the gateway itself, its settings)."""
        return self._client

    def device(self, dev_index: str) -> IsapiClient:
        """ISAPI on the device ``dev_index`` through the gateway (same login, no extra 401 round trip)."""
        return self._client.for_device(dev_index)

    async def device_list(self, page_size: int = 100) -> list[GatewayDevice]:
        """Every device on the gateway, online or not, paging by ``position``."""
        devices: list[GatewayDevice] = []
        path = DEVICE_MGMT + "deviceList"
        position = 0
        for _ in range(_MAX_PAGES):
            body = {"SearchDescription": {"position": position, "maxResult": page_size}}
            document = await self._client.request_json("POST", path, body)
            result = document.get("SearchResult") if isinstance(document, dict) else None
            if not isinstance(result, dict):
                raise IsapiConnectionError(f"{path}: the answer has no SearchResult", path=path)
            entries = as_list(result.get("MatchList"))
            for entry in entries:
                fields = entry.get("Device", entry) if isinstance(entry, dict) else None
                if isinstance(fields, dict) and text(fields.get("devIndex")) is not None:
                    devices.append(parse_gateway_device(fields))
            total = integer(result.get("totalMatches"))
            got = len(entries)
            position += got
            if got == 0 or (total is not None and position >= total) or (total is None and got < page_size):
                return devices
        raise IsapiConnectionError(f"{path}: the device list never ended", path=path)

    async def add_device(
        self,
        ehome_id: str,
        key: str,
        name: str,
        dev_type: Literal["AccessControl", "encodingDev"] | str = "AccessControl",
    ) -> str:
        """Add an ISUP 5.0 device by its EhomeID (device ID) and key; returns the devIndex the gateway gave it.

        The device appears online once it registers with the same ID and key."""
        path = DEVICE_MGMT + "addDevice"
        device = {
            "protocolType": "ehomeV5",
            "EhomeParams": {"EhomeID": ehome_id, "EhomeKey": key},
            "devName": name,
            "devType": dev_type,
        }
        document = await self._client.request_json("POST", path, {"DeviceInList": [{"Device": device}]})
        entries = as_list(document.get("DeviceOutList")) if isinstance(document, dict) else []
        result = entries[0].get("Device") if entries and isinstance(entries[0], dict) else None
        if not isinstance(result, dict):
            raise IsapiConnectionError(f"{path}: the answer has no DeviceOutList", path=path)
        status = str(result.get("status", "")).lower()
        dev_index = text(result.get("devIndex"))
        if status not in ("", "success") or dev_index is None:
            reason = text(result.get("errorMsg")) or text(result.get("subStatusCode")) or status or "no devIndex"
            raise IsapiDeviceError(6, reason, f"EhomeID {ehome_id} was not added: {reason}", path)
        return dev_index

    async def delete_devices(self, dev_indexes: Iterable[str]) -> None:
        indexes = [str(dev_index) for dev_index in dev_indexes]
        if indexes:
            await self._client.request_json("POST", DEVICE_MGMT + "delDevice", {"DevIndexList": indexes})

    async def stream_url(
        self, dev_index: str, channel: int = 1, stream: Literal["main", "sub"] = "main", *, rtsp_port: int = 554
    ) -> str:
        """The RTSP URL of a device's live view, served by the gateway (``streamMedia``). A path answer is made
        absolute on the gateway's host and ``rtsp_port``; the URL carries no credentials (Digest with the gateway
        account)."""
        body = {"StreamInfo": {"id": str(channel), "streamType": stream, "method": "preview"}}
        document = await self.device(dev_index).request_json("POST", STREAM_MEDIA_PATH, body)
        url = _stream_url_of(document)
        if url is None:
            raise IsapiConnectionError(f"{STREAM_MEDIA_PATH}: the answer has no stream URL", path=STREAM_MEDIA_PATH)
        if url.startswith("/"):
            host = URL(self.base_url).host or ""
            host = f"[{host}]" if ":" in host else host
            return f"rtsp://{host}:{rtsp_port}{url}"
        return url

    def subscribe(self, *, heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> AsyncIterator[HikEvent]:
        """Events of every device on the gateway, each with ``dev_index``; heartbeats come as keep-alives.

        Raises ``IsapiConnectionError`` when the stream ends or no heartbeat came for ``heartbeat_timeout``
        seconds: the caller subscribes again (and syncs the device list, which may have changed meanwhile)."""
        body = {"SubscribeDeviceMgmt": {"eventMode": "all", "defenceMode": "all"}}
        return self._client.event_stream(
            "POST", SUBSCRIBE_PATH, json_body=body, json_format=True, idle_timeout=heartbeat_timeout
        )


def _stream_url_of(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    for holder in (document, document.get("MediaAccessInfo"), document.get("StreamInfo")):
        if isinstance(holder, dict):
            for key in ("streamUrl", "URL", "url"):
                value = text(holder.get(key))
                if value is not None:
                    return value
    return None
