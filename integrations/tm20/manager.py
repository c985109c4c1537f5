"""The hub side of the TM20 endpoint: registration, logs, users, decisions, commands and their queue.

``TerminalManager`` implements the server's ``TerminalHandler``: the server speaks the protocol, the manager
decides (whitelist, access), stores (logs through the group-commit ``LogWriter``, users, terminals) and tells the
rest of the hub (device registry, health, entities, ``access`` events). ``run_command`` is the one way the
services and the REST API reach a terminal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import voluptuous as vol

from hub.access import EVENT_ACCESS
from hub.core import Event, Hub
from hub.device_registry import EVENT_DEVICE_REGISTRY_UPDATED, Device
from hub.exceptions import ServiceValidationError
from hub.validation import invalid_fields, slugify

from .const import COMMAND_TIMEOUT, DOMAIN, MANUFACTURER, MAX_FRAME, OFFLINE_TIMEOUT, PING_INTERVAL
from .entities import TerminalEntities
from .log_writer import LogEntry, LogWriter
from .people import People
from .protocol import (
    BACKUPNUM_CARD,
    BACKUPNUM_EVERYTHING,
    BACKUPNUM_PASSWORD,
    INOUT,
    PAGED_COMMANDS,
    UNKNOWN_ENROLLID,
    cloudtime,
    door_event_name,
    log_method,
)
from .server import Tm20Server
from .services import COMMANDS
from .session import (
    CommandFailed,
    LogDecision,
    QrDecision,
    RegisterDecision,
    SessionClosed,
    TerminalSession,
    Tm20Error,
)
from .store import TerminalInfo, TerminalUser, Tm20Store

_LOGGER = logging.getLogger(__name__)

EVENT_DOOR = "tm20_door_event"
# A message refreshes the terminal's health at most this often: 500 messages/s must not mean 2,000 state writes/s.
HEALTH_REFRESH = 10.0
# Terminals catching up at once (clock, getnewlog drain, queued commands): 2,000 reconnecting after a hub restart
# are served this many at a time instead of all in the same instant.
CATCH_UP_CONCURRENCY = 50


def health_key(sn: str) -> str:
    return slugify(f"tm20_{sn}")


class TerminalManager:
    """One per hub (the endpoint is hub-wide); kept in ``hub.data["tm20"]``."""

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.config = config
        gatehouse = hub.config.get("gatehouse") or {}
        self.time_zone = ZoneInfo(str(config.get("time_zone") or gatehouse.get("time_zone") or "UTC"))
        self.whitelist: bool = bool(config.get("whitelist", False))
        self.allowed_serials = frozenset(str(sn).strip() for sn in config.get("allowed_serials") or ())
        self.server_validation: bool = bool(config.get("server_validation", False))
        self.offline_timeout: float = float(config.get("offline_timeout", OFFLINE_TIMEOUT))
        self.store = Tm20Store(hub.database)
        self.writer = LogWriter(hub.database)
        self.people = People(self)
        self.server: Tm20Server | None = None
        self.terminals: dict[str, TerminalInfo] = {}
        self.entities: dict[str, TerminalEntities] = {}
        self._log_counts: dict[str, int] = {}
        self._health_reported: dict[str, float] = {}
        self._flush_locks: dict[str, asyncio.Lock] = {}
        self._refused: set[str] = set()
        self._unsaved: set[str] = set()  # terminals whose only change is last_registered: written at stop
        self._catching_up = asyncio.Semaphore(CATCH_UP_CONCURRENCY)
        self._unlisten: Any = None

    # ------------------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        self.terminals = await self.store.terminals()
        self._log_counts = await self.store.log_counts()
        await self.store.load_queued()
        await self.people.load()
        self._unlisten = self.hub.bus.listen(EVENT_DEVICE_REGISTRY_UPDATED, self._device_updated)
        self.server = Tm20Server(
            self,
            host=str(self.config.get("host", "0.0.0.0")),
            port=int(self.config.get("port", 7788)),
            ping_interval=float(self.config.get("ping_interval", PING_INTERVAL)),
            offline_timeout=self.offline_timeout,
            max_frame=MAX_FRAME,
            command_timeout=float(self.config.get("command_timeout", COMMAND_TIMEOUT)),
            time_zone=self.time_zone,
            nosenduser=True if self.config.get("nosenduser") else None,
        )
        await self.server.start()

    async def stop(self) -> None:
        """Close the endpoint first (no new logs), then commit what the writer holds."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self.server is not None:
            await self.server.stop()
        await self.writer.stop()
        unsaved, self._unsaved = self._unsaved, set()
        await asyncio.gather(*(self.store.save_terminal(self.terminals[sn]) for sn in unsaved))

    # ---------------------------------------------------------------------------------------------- lookups

    def session(self, sn: str) -> TerminalSession | None:
        return self.server.session(sn) if self.server is not None else None

    def require_session(self, sn: str) -> TerminalSession:
        session = self.session(sn)
        if session is None:
            raise SessionClosed(sn, "not connected")
        return session

    def device(self, sn: str) -> Device | None:
        return self.hub.devices.get_by_serial(MANUFACTURER, sn)

    def zone_of(self, sn: str) -> ZoneInfo:
        info = self.terminals.get(sn)
        if info is not None and info.time_zone:
            try:
                return ZoneInfo(info.time_zone)
            except (ValueError, KeyError):
                _LOGGER.warning("TM20 %s: unknown time zone %r, using %s", sn, info.time_zone, self.time_zone)
        return self.time_zone

    def log_count(self, sn: str) -> int:
        return self._log_counts.get(sn, 0)

    async def set_time_zone(self, sn: str, time_zone: str | None) -> None:
        """The zone the terminal's clock runs in (cloudtime, log timestamps); a connected one is re-synced."""
        if time_zone is not None:
            ZoneInfo(time_zone)  # raises for an unknown zone
        info = self.terminals.get(sn) or TerminalInfo(sn, first_seen=time.time())
        info.time_zone = time_zone
        self.terminals[sn] = info
        await self.store.save_terminal(info)
        session = self.session(sn)
        if session is not None:
            session.time_zone = self.zone_of(sn)
            self.hub.create_task(self._sync_clock(session), f"tm20 settime {sn}")

    # ------------------------------------------------------------------------------------ handler: register

    async def on_register(self, session: TerminalSession, devinfo: dict[str, Any]) -> RegisterDecision:
        sn = session.sn or ""
        existing = self.device(sn)
        if self.whitelist and sn not in self.allowed_serials and (existing is None or existing.held):
            if sn not in self._refused:  # a refused terminal retries forever: say it once
                self._refused.add(sn)
                _LOGGER.warning("TM20 %s (%s) refused: not claimed by a tenant nor allowed", sn, session.remote)
            return RegisterDecision(False, f"{sn} is not registered on this hub")
        device = await self.hub.devices.connected(
            MANUFACTURER, sn, model=_text(devinfo.get("modelname")), sw_version=_text(devinfo.get("firmware"))
        )
        now = time.time()
        known = self.terminals.get(sn)
        info = TerminalInfo(sn, first_seen=now) if known is None else replace(known)
        info.device_id = device.id
        info.model = _text(devinfo.get("modelname")) or info.model
        info.firmware = _text(devinfo.get("firmware")) or info.firmware
        if devinfo != info.devinfo:
            info.devinfo = dict(devinfo)
        session.devinfo = info.devinfo  # one dict per terminal, shared by its session
        unchanged = info == known
        info.last_registered = now
        self.terminals[sn] = info
        if unchanged:
            self._unsaved.add(sn)  # the same terminal again: no write per registration (last_registered at stop)
        else:
            await self.store.save_terminal(info)
        session.time_zone = self.zone_of(sn)
        session.context = device.id
        self._track_health(device)
        await self._ensure_entities(device)
        entities = self.entities.get(sn)
        if entities is not None:
            entities.lock.set_available(True)
            if isinstance(devinfo.get("useduser"), int):
                entities.users.set(devinfo["useduser"])
        return RegisterDecision(True)

    async def on_registered(self, session: TerminalSession) -> None:
        """After the reg reply: clock, missed logs (getnewlog drain, de-duplicated), then queued commands."""
        sn = session.sn or ""
        async with self._catching_up:
            if session.ended is not None:
                return
            await self._sync_clock(session)
            try:
                records = await session.paged("getnewlog")
            except SessionClosed:
                return
            except Tm20Error as err:
                _LOGGER.info("TM20 %s: getnewlog drain failed: %s", sn, err)
                records = []
            if records:
                await self._store_logs(session, records, None)
            await self.flush_queue(sn)

    async def _sync_clock(self, session: TerminalSession) -> None:
        try:
            await session.command("settime", cloudtime=cloudtime(dt.datetime.now(dt.UTC), session.time_zone))
        except SessionClosed:
            raise
        except Tm20Error as err:
            _LOGGER.info("TM20 %s: settime failed: %s", session.sn, err)

    async def on_seen(self, session: TerminalSession) -> None:
        sn = session.sn or ""
        now = time.monotonic()
        if now - self._health_reported.get(sn, -HEALTH_REFRESH) < min(HEALTH_REFRESH, self.offline_timeout / 4):
            return
        self._health_reported[sn] = now
        health = self.hub.health.get(health_key(sn))
        if health is not None:
            health.report_success()

    async def on_disconnected(self, session: TerminalSession, reason: str) -> None:
        sn = session.sn or ""
        if reason == "replaced":
            return  # a newer connection of the same terminal is live
        self._health_reported.pop(sn, None)
        health = self.hub.health.get(health_key(sn))
        if health is not None and reason != "stopped":
            health.report_failure(f"disconnected ({reason})")
        entities = self.entities.get(sn)
        if entities is not None and reason != "stopped":
            entities.lock.set_available(False)
        device = self.device(sn)
        if device is not None:
            await self.hub.devices.disconnected(device.id)

    # ---------------------------------------------------------------------------------------- handler: data

    async def on_logs(
        self, session: TerminalSession, records: list[dict[str, Any]], *, count: int | None, logindex: int | None
    ) -> LogDecision:
        await self._store_logs(session, records, logindex)
        if not self.server_validation:
            return LogDecision()
        device = self.device(session.sn or "")
        tenant_id = device.tenant_id if device else None
        person = self.people.find(tenant_id, _int(records[-1].get("enrollid")))
        if person is not None and person.enabled:
            return LogDecision(1, person.name)
        return LogDecision(0, "Access denied")

    async def _store_logs(
        self, session: TerminalSession, records: list[dict[str, Any]], logindex: int | None
    ) -> list[LogEntry]:
        sn = session.sn or ""
        device = self.device(sn)
        tenant_id = device.tenant_id if device else None
        new = await self.writer.write_batch(sn, tenant_id, records, logindex, time_zone=session.time_zone)
        if new:
            self._announce(device, session.time_zone, new)
        return new

    def _announce(self, device: Device | None, zone: ZoneInfo, entries: list[LogEntry]) -> None:
        """For new rows only: ``access`` (or ``tm20_door_event``) on the bus, and the sensors."""
        if not entries:
            return
        sn = entries[0].sn
        self._log_counts[sn] = self._log_counts.get(sn, 0) + len(entries)
        device_id = device.id if device else None
        last_access: tuple[LogEntry, str | None, str] | None = None
        for entry in entries:
            when = _iso(entry, zone)
            if entry.enrollid == 0:
                self.hub.bus.fire(
                    EVENT_DOOR,
                    {
                        "device_id": device_id,
                        "sn": sn,
                        "event": entry.event,
                        "name": door_event_name(entry.event),
                        "time": when,
                        "log_id": entry.id,
                    },
                    tenant_id=entry.tenant_id,
                )
                continue
            person = self.people.find(entry.tenant_id, entry.enrollid)
            name = person.name if person else _text(entry.raw.get("name"))
            method = log_method(entry.mode, entry.verifymode)
            self.hub.bus.fire(
                EVENT_ACCESS,
                {
                    "device_id": device_id,
                    "sn": sn,
                    "enrollid": entry.enrollid,
                    "person_id": str(entry.enrollid),
                    "person": name,
                    "method": method,
                    "direction": INOUT.get(entry.inout, "in"),
                    "granted": entry.enrollid != UNKNOWN_ENROLLID,
                    "time": when,
                    "log_id": entry.id,
                },
                tenant_id=entry.tenant_id,
            )
            last_access = (entry, name, method)
        entities = self.entities.get(sn)
        if entities is None:
            return
        entities.logs.set(self._log_counts[sn])
        if last_access is not None:
            entry, name, method = last_access
            entities.last_access.update(
                name or str(entry.enrollid),
                {
                    "enrollid": entry.enrollid,
                    "method": method,
                    "direction": INOUT.get(entry.inout, "in"),
                    "time": _iso(entry, zone),
                    "log_id": entry.id,
                },
            )

    async def on_user(self, session: TerminalSession, user: dict[str, Any]) -> None:
        """A keypad enrollment: the terminal's user list and (claimed terminal) the tenant's people learn it."""
        sn = session.sn or ""
        enrollid, backupnum = _int(user.get("enrollid")), _int(user.get("backupnum"), -1)
        if enrollid <= 0:
            return
        name = _text(user.get("name"))
        admin = _int(user.get("admin"))
        slots = (backupnum,) if backupnum >= 0 else ()
        await self.store.merge_terminal_user(TerminalUser(sn, enrollid, name, admin, slots, time.time()))
        device = self.device(sn)
        if device is not None and device.tenant_id is not None:
            record = user.get("record")
            records = {backupnum: str(record)} if backupnum >= 0 and record is not None else {}
            await self.people.learn(device.tenant_id, enrollid, name, admin, records)

    async def on_qrcode(self, session: TerminalSession, text: str) -> QrDecision:
        """A QR code is a person's enrollid or card number; unknown or disabled: denied (and said on the bus)."""
        return self._decide(session, text.strip(), "qr", (BACKUPNUM_CARD,))

    async def on_pin(self, session: TerminalSession, pin: str, time: str | None) -> QrDecision:
        return self._decide(session, pin.strip(), "password", (BACKUPNUM_PASSWORD,))

    def _decide(self, session: TerminalSession, text: str, method: str, backupnums: tuple[int, ...]) -> QrDecision:
        device = self.device(session.sn or "")
        tenant_id = device.tenant_id if device else None
        person = self.people.by_credential(tenant_id, backupnums, text)
        if person is None and method == "qr" and text.isdigit():
            person = self.people.find(tenant_id, int(text))
        if person is not None and person.enabled:
            return QrDecision(1, person.enrollid, person.name, f"Welcome {person.name}")
        self.hub.bus.fire(
            EVENT_ACCESS,
            {
                "device_id": device.id if device else None,
                "sn": session.sn,
                "enrollid": person.enrollid if person else None,
                "person_id": str(person.enrollid) if person else None,
                "person": person.name if person else None,
                "method": method,
                "direction": "in",
                "granted": False,
                "time": dt.datetime.now(session.time_zone).isoformat(timespec="seconds"),
                "log_id": None,
            },
            tenant_id=tenant_id,
        )
        return QrDecision(0, None, None, "Access denied")

    # ------------------------------------------------------------------------------------------- commands

    async def run_command(self, sn: str, command: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Validate, send, wait for the reply; what the services and ``POST /api/terminals/{sn}/command`` share.

        Paged commands (getuserlist, getnewlog, getalllog) return every page's records in one reply. Raises
        ServiceValidationError, SessionClosed (not connected), CommandTimeout, CommandFailed. Never retries.
        """
        schema = COMMANDS.get(command)
        if schema is None:
            raise ServiceValidationError(DOMAIN, command, {"command": f"unknown TM20 command {command!r}"})
        try:
            data = dict(schema(dict(params or {})))
        except vol.Invalid as err:
            raise ServiceValidationError(DOMAIN, command, invalid_fields(err)) from None
        data.pop("confirm", None)
        session = self.require_session(sn)
        if command == "settime":
            data.setdefault("cloudtime", cloudtime(dt.datetime.now(dt.UTC), session.time_zone))
        elif command in ("setusername", "setuserlock"):
            data["count"] = len(data["record"])
        if command in PAGED_COMMANDS:
            records = await session.paged(command, **data)
            reply: dict[str, Any] = {"ret": command, "result": True, "count": len(records), "record": records}
        else:
            reply = await session.command(command, **data)
        await self._after_command(session, command, data, reply)
        return reply

    async def _after_command(
        self, session: TerminalSession, command: str, data: dict[str, Any], reply: dict[str, Any]
    ) -> None:
        """What a successful command changes on our side: stored logs, known users, the lock's state."""
        sn = session.sn or ""
        if command in ("getnewlog", "getalllog") and reply["record"]:
            await self._store_logs(session, reply["record"], None)
        elif command == "opendoor" and (entities := self.entities.get(sn)) is not None:
            entities.lock.opened(data.get("doornum"))
        elif command == "setuserinfo":
            user = TerminalUser(
                sn, data["enrollid"], data.get("name") or None, data["admin"], (data["backupnum"],), time.time()
            )
            await self.store.merge_terminal_user(user)
        elif command == "deleteuser" and data["backupnum"] == BACKUPNUM_EVERYTHING:
            await self.store.forget_terminal_user(sn, data["enrollid"])
        elif command in ("cleanuser", "initsys"):
            await self.store.replace_terminal_users(sn, [])
            self.users_counted(sn, 0)

    def schedule_flush(self, sn: str) -> None:
        """Send the terminal's queued commands now if it is connected (else at its next registration)."""
        if self.session(sn) is not None:
            self.hub.create_task(self.flush_queue(sn), f"tm20 queue {sn}")

    async def flush_queue(self, sn: str) -> int:
        """Queued commands, oldest first. A refusal drops the command (retrying cannot help); no connection or
        no answer stops here and keeps the rest for the next registration. Returns how many were sent."""
        lock = self._flush_locks.setdefault(sn, asyncio.Lock())
        sent = 0
        async with lock:
            for pending in await self.store.pending_commands(sn):
                session = self.session(sn)
                if session is None:
                    break
                try:
                    reply = await session.command(pending.command, **pending.params)
                except SessionClosed:
                    break
                except Tm20Error as err:
                    if not isinstance(err, CommandFailed):
                        _LOGGER.info("TM20 %s: queued %s not answered, kept for later: %s", sn, pending.command, err)
                        break
                    _LOGGER.warning("TM20 %s refused queued %s: %s", sn, pending.command, err)
                else:
                    await self._after_command(session, pending.command, dict(pending.params), reply)
                    sent += 1
                await self.store.done_command(pending.id)
        return sent

    # ------------------------------------------------------------------------------------- health, entities

    def _track_health(self, device: Device) -> None:
        key = health_key(device.serial_number)
        health = self.hub.health.get(key)
        if health is None or health.tenant_id != device.tenant_id or health.device_id != device.id:
            health = self.hub.health.track(
                key, device.name, stale_after=self.offline_timeout, device_id=device.id, tenant_id=device.tenant_id
            )
        self._health_reported[device.serial_number] = time.monotonic()
        health.report_success()

    async def _ensure_entities(self, device: Device) -> None:
        """Entities exist for claimed terminals only: a held one is visible to platform administrators alone."""
        sn = device.serial_number
        if device.tenant_id is None or sn in self.entities:
            return
        users = self.terminals.get(sn, TerminalInfo(sn)).devinfo.get("useduser")
        entities = TerminalEntities(device, users=users if isinstance(users, int) else None, logs=self.log_count(sn))
        self.entities[sn] = entities
        await entities.add(self.hub, device)
        entities.lock.set_available(self.session(sn) is not None)

    def users_counted(self, sn: str, count: int) -> None:
        entities = self.entities.get(sn)
        if entities is not None:
            entities.users.set(count)

    def _device_updated(self, event: Event[Any]) -> None:
        """A claim of a connected terminal: its entities appear and its health moves to the tenant."""
        device = self.hub.devices.get(event.data["device_id"])
        if device is None or device.manufacturer != MANUFACTURER or self.session(device.serial_number) is None:
            return
        if device.tenant_id is not None and device.serial_number not in self.entities:
            self.hub.create_task(self._ensure_entities(device), f"tm20 entities {device.serial_number}")
        health = self.hub.health.get(health_key(device.serial_number))
        if health is not None and health.tenant_id != device.tenant_id:
            self._track_health(device)


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _iso(entry: LogEntry, zone: ZoneInfo) -> str:
    """The moment with its offset; the terminal's own text when it could not be read."""
    if entry.timestamp is None:
        return entry.time
    return dt.datetime.fromtimestamp(entry.timestamp, zone).isoformat(timespec="seconds")
