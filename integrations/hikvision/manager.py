"""The integration's one object per hub (``hub.data["hikvision"]``): what every device, gateway and route shares.

It holds the HTTP sessions (one for many devices: an alert stream is one long request each), the access log and
the store, every followed device by serial (``HikDevice``), the directly configured devices by config entry
(``DirectDevice``), the gateways by name (``Gateway``), and the push tokens. It is made by whichever comes
first, ``hikvision:`` in configuration.yaml or the first config entry, and stops with the hub.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from hub.core import Event, Hub
from hub.device_registry import EVENT_DEVICE_REGISTRY_UPDATED

from .access_log import AccessLog
from .camera import StreamKind
from .config import CONFIG_SCHEMA
from .const import (
    CONF_BACKFILL_HOURS,
    CONF_EVENT_TIMEOUT,
    CONF_GATEWAYS,
    CONF_PUSH_URL,
    DOMAIN,
    MANUFACTURER,
)
from .device import HikDevice
from .store import DeviceRecord, HikvisionStore

if TYPE_CHECKING:
    from .direct import DirectDevice
    from .gateway import Gateway

_LOGGER = logging.getLogger(__name__)

_LOCK = "hikvision_manager_lock"


class HikvisionManager:
    """See the module docstring. ``config`` is the validated ``hikvision:`` section (defaults when absent)."""

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.config = dict(config)
        self.backfill_hours = float(self.config[CONF_BACKFILL_HOURS])
        self.event_timeout = float(self.config[CONF_EVENT_TIMEOUT])
        self.store = HikvisionStore(hub.database)
        self.access_log = AccessLog(hub.database)
        self.records: dict[str, DeviceRecord] = {}
        self.devices: dict[str, HikDevice] = {}
        self.entries: dict[str, DirectDevice] = {}
        self.gateways: dict[str, Gateway] = {}
        self.push_tokens: dict[str, str] = {}  # token -> entry id
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self._unlisten: Any = None
        self._said: set[str] = set()
        self.stopped = False

    # ------------------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        self.records = await self.store.devices()
        self.push_tokens = await self.store.push_tokens()
        self._unlisten = self.hub.bus.listen(EVENT_DEVICE_REGISTRY_UPDATED, self._device_updated)
        from .gateway import Gateway  # gateway.py imports this module for typing

        for gateway_config in self.config[CONF_GATEWAYS]:
            gateway = Gateway(self, gateway_config)
            self.gateways[gateway.name] = gateway
            await gateway.start()

    async def stop(self) -> None:
        """Stop every gateway and device (config entries unload later and find them stopped), then the log."""
        self.stopped = True
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for gateway in list(self.gateways.values()):
            await gateway.stop()
        for direct in list(self.entries.values()):
            await direct.stop()
        await self.access_log.stop()
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    def session(self, verify_ssl: bool = True) -> aiohttp.ClientSession:
        """One session per certificate policy: no connection limit (every alert stream holds one)."""
        session = self._sessions.get(verify_ssl)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=0, ssl=verify_ssl)
            session = self._sessions[verify_ssl] = aiohttp.ClientSession(connector=connector)
        return session

    # --------------------------------------------------------------------------------------------- devices

    def record(self, serial: str) -> DeviceRecord:
        record = self.records.get(serial)
        if record is None:
            record = self.records[serial] = DeviceRecord(serial, first_seen=time.time())
        return record

    async def save_record(self, record: DeviceRecord) -> None:
        self.records[record.serial] = record
        await self.store.save_device(record)

    def serial_for_entry(self, entry_id: str) -> str | None:
        """The serial a config entry's device had when it last answered (None: it never did)."""
        return next((serial for serial, record in self.records.items() if record.entry_id == entry_id), None)

    def device_of(self, serial: str) -> HikDevice | None:
        return self.devices.get(serial)

    def followed(self, serial: str) -> str | None:
        """Who follows the device already: ``entry <id>`` or ``gateway <name>``; None when nobody does."""
        device = self.devices.get(serial)
        if device is None:
            return None
        if device.entry is not None:
            return f"config entry {device.entry.title!r}"
        return f"gateway {device.record.gateway!r}"

    async def stream_url(self, device: HikDevice, channel: int, stream: StreamKind) -> str | None:
        """The RTSP URL of a channel: the device's own, or the gateway's for a device behind one."""
        gateway = self.gateways.get(device.record.gateway or "") if device.entry is None else None
        if gateway is not None and device.record.dev_index:
            return await gateway.stream_url(device.record.dev_index, channel, stream)
        return device.client.rtsp_url(channel, stream, device.rtsp_port or 554)

    def _device_updated(self, event: Event[Any]) -> None:
        """A claim of a device the hub already follows: its entities appear for the new tenant at once."""
        device = self.hub.devices.get(event.data["device_id"])
        if device is None or device.manufacturer != MANUFACTURER:
            return
        followed = self.devices.get(device.serial_number)
        if followed is not None and device.tenant_id is not None:
            self.hub.create_task(followed.ensure_entities(), f"hikvision entities {device.serial_number}")
        for gateway in self.gateways.values():
            gateway.device_updated(device)

    # ------------------------------------------------------------------------------------------ push mode

    async def push_token(self, entry_id: str) -> str:
        token = await self.store.push_token(entry_id)
        self.push_tokens[token] = entry_id
        return token

    def direct_for_token(self, token: str) -> DirectDevice | None:
        entry_id = self.push_tokens.get(token)
        direct = self.entries.get(entry_id) if entry_id is not None else None
        if direct is None:
            self.say_once(f"token {token}", "Hikvision push to an unknown token refused (%s...)", token[:6])
        return direct

    def say_once(self, key: str, message: str, *args: object) -> None:
        """Log a warning the first time ``key`` comes up (bounded: a scanner must not grow the set forever)."""
        if key in self._said:
            return
        if len(self._said) < 10_000:
            self._said.add(key)
        _LOGGER.warning(message, *args)

    def push_base(self, device_host: str) -> tuple[str, int, str]:
        """``(host, port, path prefix)`` where a device on ``device_host`` reaches the hub's push route.

        ``push_url`` in configuration.yaml wins; else the hub's own HTTP address, with a wildcard bind replaced
        by the local address the hub uses toward the device.
        """
        configured = self.config.get(CONF_PUSH_URL)
        if configured:
            parts = urlsplit(configured)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            return parts.hostname or "", port, parts.path.rstrip("/")
        http = getattr(self.hub, "http", None)
        host = getattr(http, "host", None) or "0.0.0.0"
        port = int(getattr(http, "port", None) or (self.hub.config.get("http") or {}).get("port", 8123))
        if host in ("0.0.0.0", "::", ""):
            host = _local_address_toward(device_host)
        return host, port, ""


def _local_address_toward(device_host: str) -> str:
    """The address of this machine on the route to ``device_host`` (a UDP connect sends nothing)."""
    family = socket.AF_INET6 if ":" in device_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((device_host, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1" if family == socket.AF_INET else "::1"


async def async_get_manager(hub: Hub, config: Mapping[str, Any] | None = None) -> HikvisionManager:
    """The hub's manager, started on first use (``config``: the ``hikvision:`` section, when it is the caller)."""
    lock: asyncio.Lock = hub.data.setdefault(_LOCK, asyncio.Lock())
    async with lock:
        manager: HikvisionManager | None = hub.data.get(DOMAIN)
        if manager is not None and not manager.stopped:
            return manager
        manager = HikvisionManager(hub, CONFIG_SCHEMA(dict(config or {})))
        await manager.start()
        hub.data[DOMAIN] = manager

        async def stop() -> None:
            await manager.stop()
            if hub.data.get(DOMAIN) is manager:
                hub.data.pop(DOMAIN, None)

        hub.on_stop(stop)
        return manager


def manager_of(hub: Hub) -> HikvisionManager | None:
    """The running manager; None before any Hikvision device or gateway is configured."""
    manager: HikvisionManager | None = hub.data.get(DOMAIN)
    return manager if manager is not None and not manager.stopped else None
