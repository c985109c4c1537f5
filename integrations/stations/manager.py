"""The StationManager: the one place where stations, sessions and their timers change, whoever asks.

REST, services, the agent WebSocket, the scheduled jobs and the dashboard all call these methods. The hub is the
clock: an active session ends at ``ends_at`` (epoch seconds in the database); remaining time is always
``ends_at - now``, and every message to an agent carries that absolute state, so a replayed or duplicated
message never doubles time. Live state (online, last heartbeat, the active session of each station) is kept in
memory for heartbeats to be cheap; every change of a session is written to the database first (compare-and-set
on its status) and then published: entities, events on the bus (never the code), audit log, the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from hub.auth.scope import NotFound
from hub.core import Hub, await_maybe
from hub.ids import new_id

from . import protocol
from .codes import CodeGuard, generate_code, normalise_code
from .const import (
    ACTION_CODE_REJECTED,
    ACTION_SESSION_ADD_TIME,
    ACTION_SESSION_CREATE,
    ACTION_SESSION_EXPIRE,
    ACTION_SESSION_TERMINATE,
    ACTION_SESSION_VALIDATE,
    ACTION_STATION_CREATE,
    ACTION_STATION_DELETE,
    ACTION_STATION_STATUS,
    ACTION_STATION_TOKEN,
    ACTION_STATION_UPDATE,
    ACTION_STATION_WARN,
    ACTOR_SYSTEM,
    CODE_ATTEMPTS,
    CONF_CODE_TTL_HOURS,
    CONF_HEARTBEAT_INTERVAL,
    CONF_OFFLINE_AFTER,
    CONF_WARN_MINUTES,
    DEFAULT_CODE_TTL_HOURS,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_OFFLINE_AFTER,
    DEFAULT_WARN_MINUTES,
    DOMAIN,
    DRIFT_TOLERANCE,
    EVENT_SESSION_ENDED,
    EVENT_SESSION_ENDING,
    EVENT_SESSION_STARTED,
    EVENT_STATUS_CHANGED,
    MANUFACTURER,
    MAX_ADD_MINUTES,
    MAX_SESSION_SECONDS,
    MIN_ADD_MINUTES,
    REASON_CODE_EXPIRED,
    REASON_EXPIRED,
    REASON_STATION_DELETED,
    REASON_TERMINATED,
    SESSION_ACTIVE,
    SESSION_FINISHED,
    SESSION_WAITING,
    STATUS_AVAILABLE,
    STATUS_BUSY,
    STATUS_MAINTENANCE,
    STATUS_OFFLINE,
)
from .entities import StationEntities
from .errors import CodeRateLimited, InvalidCode, InvalidInput, SessionFinished, StationUnavailable
from .models import StationLogRow
from .state import (
    AgentState,
    HeartbeatResult,
    LiveStation,
    SessionView,
    hash_token,
    iso,
    new_token,
    remaining_of,
)
from .store import CodeTaken, NameTaken, SessionRecord, StationRecord, StationStore

_LOGGER = logging.getLogger(__name__)

Sender = Callable[[str, dict[str, Any]], Awaitable[Any] | Any]


class StationManager:
    """One per hub (``manager_of(hub)``); ``start()`` loads stations and active sessions."""

    def __init__(self, hub: Hub, config: Mapping[str, Any], store: StationStore | None = None) -> None:
        self.hub = hub
        self.config = dict(config)
        self.store = store or StationStore(hub.database)
        self.guard = CodeGuard()
        self.sender: Sender | None = None
        self.clock: Callable[[], float] = time.time
        self.heartbeat_interval = float(self.config.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL))
        self.offline_after = float(self.config.get(CONF_OFFLINE_AFTER, DEFAULT_OFFLINE_AFTER))
        self.warn_minutes = sorted({int(m) for m in self.config.get(CONF_WARN_MINUTES, DEFAULT_WARN_MINUTES)})
        self.code_ttl = float(self.config.get(CONF_CODE_TTL_HOURS, DEFAULT_CODE_TTL_HOURS)) * 3600
        self.code_factory: Callable[[], str] = generate_code
        self._live: dict[str, LiveStation] = {}
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        for record in await self.store.stations():
            await self._add_live(record)
        for session in await self.store.active_sessions():
            live = self._live.get(session.station_id or "")
            if live is not None:
                live.session = session
                live.visitor_name = await self._visitor_name(session.visitor_id)
        for live in self._live.values():
            self._publish(live)

    async def stop(self) -> None:
        """Remember when each station was last heard from."""
        for live in self._live.values():
            if live.last_seen is not None and live.last_seen != live.record.last_seen:
                await self.store.update_station(live.record.id, last_seen=live.last_seen)

    async def _add_live(self, record: StationRecord) -> LiveStation:
        device = self.hub.devices.get(record.device_id) if record.device_id else None
        if device is None or device.tenant_id != record.tenant_id:
            device = await self.hub.devices.claim(record.tenant_id, MANUFACTURER, record.id, record.name)
            record = await self.store.update_station(record.id, device_id=device.id) or record
        status = STATUS_MAINTENANCE if record.maintenance else STATUS_OFFLINE
        live = LiveStation(record, StationEntities(record.id, record.name, status), last_seen=record.last_seen)
        self._live[record.id] = live
        await live.entities.add(self.hub, device)
        return live

    # ---------------------------------------------------------------------------------------------- queries

    def station(self, station_id: str) -> StationRecord | None:
        live = self._live.get(station_id)
        return live.record if live is not None else None

    def stations(self, tenant_id: str | None = None) -> list[StationRecord]:
        records = [
            live.record for live in self._live.values() if tenant_id is None or live.record.tenant_id == tenant_id
        ]
        return sorted(records, key=lambda record: (record.name.lower(), record.id))

    def status_of(self, station_id: str) -> str:
        return self._require_live(station_id).status

    def station_entity_ids(self, station_id: str) -> list[str]:
        return self._require_live(station_id).entities.entity_ids()

    def active_session_id(self, station_id: str) -> str | None:
        live = self._require_live(station_id)
        return live.session.id if live.session is not None else None

    def forget_visitor(self, visitor_id: str) -> None:
        """An erased visitor's name leaves the stations they are on now (entities and API)."""
        for live in self._live.values():
            if live.session is not None and live.session.visitor_id == visitor_id:
                live.session = replace(live.session, visitor_id=None)
                live.visitor_name = None
                self._publish(live)

    def station_by_entity(self, entity_id: str) -> StationRecord | None:
        for live in self._live.values():
            if entity_id in live.entities.entity_ids():
                return live.record
        return None

    def station_dict(self, station_id: str) -> dict[str, Any]:
        """A station with its live status, last heartbeat and active session (never its token)."""
        live = self._require_live(station_id)
        record = live.record
        session = live.session
        now = self.clock()
        return {
            "id": record.id,
            "tenant_id": record.tenant_id,
            "name": record.name,
            "address": record.address,
            "mac": record.mac,
            "status": live.status,
            "maintenance": record.maintenance,
            "online": live.online,
            "connected": live.connected,
            "last_seen": iso(live.last_seen),
            "device_id": record.device_id,
            "entities": live.entities.entity_ids(),
            "session": None
            if session is None
            else {
                "id": session.id,
                "visitor_id": session.visitor_id,
                "visitor": live.visitor_name,
                "started_at": iso(session.started_at),
                "ends_at": iso(session.ends_at),
                "remaining": remaining_of(session, now),
            },
            "created_at": iso(record.created_at),
        }

    async def station_by_address(self, address: str) -> StationRecord | None:
        """The station an agent names in its URL: its id, its IP address or its name, in any tenant.

        An address or name shared by stations of several tenants is ambiguous: None (the agent must use the id).
        """
        live = self._live.get(address)
        if live is not None:
            return live.record
        wanted = address.strip().lower()
        for matches in (
            [live.record for live in self._live.values() if (live.record.address or "").lower() == wanted],
            [live.record for live in self._live.values() if live.record.name.lower() == wanted],
        ):
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                _LOGGER.warning("Station address %r names %d stations: the agent must use the station id",
                                address, len(matches))  # fmt: skip
                return None
        return None

    def check_token(self, station: StationRecord, token: str) -> bool:
        """Constant-time comparison with the stored hash (the live record: a regenerated token wins at once)."""
        live = self._live.get(station.id)
        if live is None or not token:
            return False
        return hmac.compare_digest(hash_token(token), live.record.token_hash)

    async def session_view(self, session_id: str) -> SessionView | None:
        record = await self.store.session(session_id)
        return await self._view(record) if record is not None else None

    async def session_views(self, records: list[SessionRecord]) -> list[SessionView]:
        names = await self.store.visitor_names([record.visitor_id for record in records if record.visitor_id])
        now = self.clock()
        return [self._make_view(record, names.get(record.visitor_id or ""), now) for record in records]

    async def _view(self, record: SessionRecord) -> SessionView:
        return self._make_view(record, await self._visitor_name(record.visitor_id), self.clock())

    def _make_view(self, record: SessionRecord, visitor_name: str | None, now: float) -> SessionView:
        station = self.station(record.station_id) if record.station_id else None
        return SessionView(
            id=record.id,
            tenant_id=record.tenant_id,
            station_id=record.station_id,
            station_name=station.name if station is not None else None,
            visitor_id=record.visitor_id,
            visitor_name=visitor_name,
            code=record.code,
            status=record.status,
            duration=record.duration,
            added=record.added,
            remaining=remaining_of(record, now),
            created_at=record.created_at,
            expires_at=record.expires_at,
            started_at=record.started_at,
            ends_at=record.ends_at,
            finished_at=record.finished_at,
            end_reason=record.end_reason,
            created_by=record.created_by,
        )

    async def _visitor_name(self, visitor_id: str | None) -> str | None:
        if visitor_id is None:
            return None
        visitor = await self.store.visitor(visitor_id)
        return visitor.display_name if visitor is not None else None

    def _require_live(self, station_id: str) -> LiveStation:
        live = self._live.get(station_id)
        if live is None:
            raise NotFound("station", station_id)
        return live

    # ---------------------------------------------------------------------------------------------- stations

    async def create_station(
        self,
        tenant_id: str,
        name: str,
        *,
        address: str | None = None,
        mac: str | None = None,
        actor: str,
        client: str | None = None,
    ) -> tuple[StationRecord, str]:
        """A new station and its agent token (returned once; only its hash is stored)."""
        token = new_token()
        now = self.clock()
        record = StationRecord(
            id=new_id(),
            tenant_id=tenant_id,
            name=name,
            address=address,
            mac=mac,
            maintenance=False,
            token_hash=hash_token(token),
            device_id=None,
            last_seen=None,
            created_at=now,
            updated_at=now,
        )
        try:
            await self.store.insert_station(record)
        except NameTaken:
            raise InvalidInput("name", f"a station named {name!r} exists already") from None
        live = await self._add_live(record)
        await self.log(tenant_id, actor, ACTION_STATION_CREATE, station_id=record.id,
                       details={"name": name, "address": address, "mac": mac}, address=client)  # fmt: skip
        return live.record, token

    async def update_station(
        self, station_id: str, *, actor: str, client: str | None = None, **changes: Any
    ) -> StationRecord:
        """Rename, or change the IP or MAC address (``changes``: name, address, mac)."""
        live = self._require_live(station_id)
        allowed = {key: value for key, value in changes.items() if key in ("name", "address", "mac")}
        if not allowed:
            return live.record
        try:
            record = await self.store.update_station(station_id, **allowed, updated_at=self.clock())
        except NameTaken:
            raise InvalidInput("name", f"a station named {changes.get('name')!r} exists already") from None
        if record is None:
            raise NotFound("station", station_id)
        live.record = record
        if "name" in allowed and record.device_id is not None:
            await self.hub.devices.rename(record.device_id, record.name)
        await self.log(record.tenant_id, actor, ACTION_STATION_UPDATE, station_id=station_id, details=allowed,
                       address=client)  # fmt: skip
        return record

    async def delete_station(self, station_id: str, *, actor: str, client: str | None = None) -> None:
        """Its live sessions finish (``station_deleted``); past sessions and logs stay, without the station."""
        live = self._require_live(station_id)
        for session in await self.store.sessions(live.record.tenant_id, station_id=station_id, limit=500):
            if session.live:
                with contextlib.suppress(SessionFinished):
                    await self.terminate(session.id, actor=actor, reason=REASON_STATION_DELETED)
        await self.store.delete_station(station_id)
        await live.entities.remove(self.hub, forget=True)
        if live.record.device_id is not None:
            await self.hub.devices.remove(live.record.device_id)
        self._live.pop(station_id, None)
        await self.log(live.record.tenant_id, actor, ACTION_STATION_DELETE, station_id=station_id,
                       details={"name": live.record.name}, address=client)  # fmt: skip

    async def regenerate_token(self, station_id: str, *, actor: str, client: str | None = None) -> str:
        """A new agent token; the old one stops working at once (a connected agent keeps its connection)."""
        live = self._require_live(station_id)
        token = new_token()
        record = await self.store.update_station(station_id, token_hash=hash_token(token), updated_at=self.clock())
        if record is None:
            raise NotFound("station", station_id)
        live.record = record
        await self.log(record.tenant_id, actor, ACTION_STATION_TOKEN, station_id=station_id, address=client)
        return token

    async def set_status(self, station_id: str, status: str, *, actor: str, client: str | None = None) -> str:
        """``maintenance`` or ``available`` (back in service); busy and offline are derived, never set."""
        if status not in (STATUS_AVAILABLE, STATUS_MAINTENANCE):
            raise InvalidInput("status", "expected available or maintenance (busy and offline follow the station)")
        live = self._require_live(station_id)
        maintenance = status == STATUS_MAINTENANCE
        if live.record.maintenance != maintenance:
            old = live.status
            record = await self.store.update_station(station_id, maintenance=maintenance, updated_at=self.clock())
            if record is None:
                raise NotFound("station", station_id)
            live.record = record
            await self.log(record.tenant_id, actor, ACTION_STATION_STATUS, station_id=station_id,
                           details={"from": old, "to": live.status}, address=client)  # fmt: skip
            self._status_changed(live, old)
        return live.status

    async def warn(self, station_id: str, message: str, *, actor: str) -> bool:
        """Show ``message`` on the station (its agent's ``warn``); False when no agent is connected."""
        live = self._require_live(station_id)
        minutes = math.ceil(remaining_of(live.session, self.clock()) / 60) if live.session is not None else None
        await self.log(live.record.tenant_id, actor, ACTION_STATION_WARN, station_id=station_id,
                       session_id=live.session.id if live.session else None, details={"message": message})  # fmt: skip
        await self.send(station_id, protocol.warn_message(minutes or 0, message))
        return live.connected

    # ---------------------------------------------------------------------------------------------- sessions

    async def create_session(
        self,
        tenant_id: str,
        minutes: int,
        *,
        station_id: str | None = None,
        visitor_id: str | None = None,
        actor: str,
        client: str | None = None,
    ) -> SessionView:
        """A waiting session with a fresh code, unique among live sessions of the whole hub."""
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_SESSION_SECONDS // 60:
            raise InvalidInput("minutes", f"expected a whole number of minutes from 1 to {MAX_SESSION_SECONDS // 60}")
        if station_id is not None:
            station = self.station(station_id)
            if station is None or station.tenant_id != tenant_id:
                raise InvalidInput("station_id", "no such station")
        if visitor_id is not None:
            visitor = await self.store.visitor(visitor_id)
            if visitor is None or visitor.tenant_id != tenant_id:
                raise InvalidInput("visitor_id", "no such visitor")
            if visitor.erased_at is not None:
                raise InvalidInput("visitor_id", "this visitor's data was erased")
        now = self.clock()
        for _ in range(CODE_ATTEMPTS):
            record = SessionRecord(
                id=new_id(),
                tenant_id=tenant_id,
                station_id=station_id,
                visitor_id=visitor_id,
                code=self.code_factory(),
                status=SESSION_WAITING,
                duration=minutes * 60,
                added=0,
                created_at=now,
                expires_at=now + self.code_ttl,
                started_at=None,
                ends_at=None,
                finished_at=None,
                end_reason=None,
                warned=(),
                created_by=actor,
            )
            try:
                await self.store.insert_session(record)
            except CodeTaken:
                continue
            break
        else:
            raise RuntimeError(f"no free access code after {CODE_ATTEMPTS} draws")
        await self.log(tenant_id, actor, ACTION_SESSION_CREATE, station_id=station_id, session_id=record.id,
                       visitor_id=visitor_id, details={"minutes": minutes}, address=client)  # fmt: skip
        return await self._view(record)

    async def validate_code(self, code: str, *, station_id: str, client: str, actor: str | None = None) -> SessionView:
        """A visitor typed ``code`` at a station: its waiting session starts there (ends_at = now + duration).

        Wrong, expired or another tenant's codes all raise InvalidCode; 5 of them in 5 minutes from one station
        or one client raise CodeRateLimited. The same code again on the station where it is already active
        returns that session unchanged (an agent re-sending after a reconnect loses and gains no time).
        """
        live = self._require_live(station_id)
        station = live.record
        keys = (f"station:{station_id}", f"client:{client}")
        stamp = self.guard.attempt(keys)
        if stamp is None:
            raise CodeRateLimited(self.guard.retry_after(keys))
        wanted = normalise_code(code) if isinstance(code, str) else ""
        async with self._lock:
            session = await self.store.live_session_by_code(wanted) if wanted else None
            if (
                session is not None
                and session.status == SESSION_ACTIVE
                and session.station_id == station_id
                and live.session is not None
                and live.session.id == session.id
            ):
                self.guard.forgive(keys, stamp)
                view = await self._view(session)
                await self.send(station_id, self.session_message(view))  # the agent retrying gets its state
                return view
            usable = (
                session is not None
                and session.status == SESSION_WAITING
                and session.tenant_id == station.tenant_id
                and session.station_id in (None, station_id)
                and session.expires_at > self.clock()
            )
            if session is None or not usable:
                await self.log(station.tenant_id, actor or f"agent:{station.name}", ACTION_CODE_REJECTED,
                               station_id=station_id, address=client)  # fmt: skip
                raise InvalidCode
            self.guard.forgive(keys, stamp)
            if station.maintenance:
                raise StationUnavailable(station.name, STATUS_MAINTENANCE)
            if live.session is not None:
                raise StationUnavailable(station.name, STATUS_BUSY)
            now = self.clock()
            started = await self.store.update_session(
                session.id, SESSION_WAITING, status=SESSION_ACTIVE, station_id=station_id, started_at=now,
                ends_at=now + session.total, warned=(),
            )  # fmt: skip
            if started is None:  # another station won the race for the same code
                raise InvalidCode
            old = live.status
            live.session = started
            live.visitor_name = await self._visitor_name(started.visitor_id)
        view = await self._view(started)
        await self.log(station.tenant_id, actor or f"agent:{station.name}", ACTION_SESSION_VALIDATE,
                       station_id=station_id, session_id=started.id, visitor_id=started.visitor_id,
                       details={"ends_at": iso(started.ends_at)}, address=client)  # fmt: skip
        self._fire(EVENT_SESSION_STARTED, live, started, minutes=started.total // 60)
        self._status_changed(live, old)
        await self.send(station_id, self.session_message(view))
        return view

    async def add_time(self, session_id: str, minutes: int, *, actor: str, client: str | None = None) -> SessionView:
        """1 to 720 minutes more; a session never exceeds 24 hours in all. Absolute ``ends_at`` to the agent."""
        if (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or not MIN_ADD_MINUTES <= minutes <= MAX_ADD_MINUTES
        ):
            raise InvalidInput(
                "minutes", f"expected a whole number of minutes from {MIN_ADD_MINUTES} to {MAX_ADD_MINUTES}"
            )
        seconds = minutes * 60
        async with self._lock:
            session = await self.store.session(session_id)
            if session is None:
                raise NotFound("session", session_id)
            if not session.live:
                raise SessionFinished(session_id)
            room = MAX_SESSION_SECONDS - session.total
            if seconds > room:
                raise InvalidInput("minutes", f"a session lasts at most 24 h: at most {room // 60} more minutes")
            values: dict[str, Any] = {"added": session.added + seconds}
            if session.status == SESSION_ACTIVE and session.ends_at is not None:
                values["ends_at"] = session.ends_at + seconds
                remaining = session.ends_at + seconds - self.clock()
                # Warnings for thresholds that are ahead again fire again.
                values["warned"] = tuple(m for m in session.warned if m * 60 >= remaining)
            updated = await self.store.update_session(session_id, session.status, **values)
            if updated is None:
                raise SessionFinished(session_id)
            live = self._live.get(updated.station_id or "")
            if live is not None and updated.status == SESSION_ACTIVE:
                live.session = updated
        view = await self._view(updated)
        await self.log(updated.tenant_id, actor, ACTION_SESSION_ADD_TIME, station_id=updated.station_id,
                       session_id=session_id, details={"minutes": minutes, "ends_at": iso(updated.ends_at)},
                       address=client)  # fmt: skip
        if live is not None and updated.status == SESSION_ACTIVE:
            self._publish(live)
            message = protocol.add_time_message(session_id, seconds, iso(view.ends_at) or "", view.remaining)
            await self.send(live.record.id, message)
        return view

    async def terminate(
        self, session_id: str, *, actor: str, reason: str = REASON_TERMINATED, client: str | None = None
    ) -> SessionView:
        """End a live session now. A second time raises SessionFinished and changes nothing."""
        async with self._lock:
            session = await self.store.session(session_id)
            if session is None:
                raise NotFound("session", session_id)
            if not session.live:
                raise SessionFinished(session_id)
            finished = await self._finish(session, reason)
            if finished is None:
                raise SessionFinished(session_id)
        await self.log(finished.tenant_id, actor, ACTION_SESSION_TERMINATE, station_id=finished.station_id,
                       session_id=session_id, details={"reason": reason}, address=client)  # fmt: skip
        return await self._view(finished)

    async def _finish(self, session: SessionRecord, reason: str) -> SessionRecord | None:
        """Finish one live session (caller holds the lock): write, then free the station, event, agent.

        ``station_session_ended`` is for sessions that ran on a station; a code that was never used just ends."""
        now = self.clock()
        finished = await self.store.update_session(
            session.id, session.status, status=SESSION_FINISHED, finished_at=now, end_reason=reason
        )
        if finished is None:
            return None
        live = self._live.get(finished.station_id or "")
        if live is not None and live.session is not None and live.session.id == finished.id:
            old = live.status
            live.session = None
            live.visitor_name = None
            self._fire(EVENT_SESSION_ENDED, live, finished, reason=reason)
            self._status_changed(live, old)
            message = protocol.close_session_message(finished.id, reason)
            await self.send(live.record.id, message)
        return finished

    # --------------------------------------------------------------------------------------------- the agent

    async def agent_connected(self, station_id: str) -> AgentState:
        """The agent is online; it gets its active session (absolute state) before anything else."""
        live = self._require_live(station_id)
        old = live.status
        live.connected = True
        live.online = True
        live.last_seen = self.clock()
        await self.hub.devices.connected(MANUFACTURER, station_id)
        self._status_changed(live, old)
        view = await self._view(live.session) if live.session is not None else None
        return AgentState(live.record, view, [self.session_message(view)] if view is not None else [])

    async def agent_disconnected(self, station_id: str) -> None:
        """The connection closed; the status follows the heartbeats (offline after ``offline_after``)."""
        live = self._live.get(station_id)
        if live is None:
            return
        live.connected = False
        if live.last_seen is not None:
            record = await self.store.update_station(station_id, last_seen=live.last_seen)
            if record is not None:
                live.record = record

    async def heartbeat(self, station_id: str, *, remaining: int | None, code: str | None) -> HeartbeatResult:
        """The agent's view of its session against the hub's. The hub's wins; the reply corrects the agent."""
        live = self._require_live(station_id)
        now = self.clock()
        old = live.status
        live.last_seen = now
        if not live.online:
            live.online = True
            if live.record.device_id is not None:
                await self.hub.devices.connected(MANUFACTURER, station_id)
            self._status_changed(live, old)
        result = HeartbeatResult(live.status)
        session = live.session
        reported = normalise_code(code) if isinstance(code, str) and code.strip() else None
        if session is not None:
            hub_remaining = remaining_of(session, now)
            result.remaining = hub_remaining
            if reported is not None and reported != session.code:
                stale = await self.store.session_by_code(reported)
                result.reply.append(self._close_message(stale, reported))
            if reported != session.code or remaining is None or abs(int(remaining) - hub_remaining) > DRIFT_TOLERANCE:
                if reported == session.code and remaining is not None:
                    _LOGGER.info("Station %s drifts %d s from the hub's clock: corrected", live.record.name,
                                 int(remaining) - hub_remaining)  # fmt: skip
                result.reply.append(self.session_message(await self._view(session)))
            live.entities.remaining.update(hub_remaining, dict(live.entities.remaining.extra_attributes or {}))
        elif reported is not None:
            stale = await self.store.session_by_code(reported)
            result.reply.append(self._close_message(stale, reported))
        return result

    def _close_message(self, stale: SessionRecord | None, code: str) -> dict[str, Any]:
        """Close a session the agent still shows but the hub has finished (or never knew)."""
        if stale is not None and stale.status == SESSION_FINISHED:
            return protocol.close_session_message(stale.id, stale.end_reason or REASON_TERMINATED)
        return protocol.close_session_message(None, "unknown_session")

    def session_message(self, view: SessionView) -> dict[str, Any]:
        """The ``session`` message: absolute state, safe to replay."""
        return protocol.session_message(view.id, view.code, iso(view.ends_at) or "", view.remaining)

    def station_info(self, station_id: str) -> dict[str, Any]:
        """The station as its agent's ``hello`` shows it."""
        record = self._require_live(station_id).record
        return {"id": record.id, "name": record.name, "address": record.address, "status": self.status_of(station_id)}

    async def send(self, station_id: str, message: dict[str, Any]) -> None:
        """To the station's agent through ``sender`` (set by the agent endpoint); dropped when none is there."""
        if self.sender is None:
            return
        try:
            await await_maybe(self.sender(station_id, message))
        except Exception:
            _LOGGER.exception("Sending %s to station %s failed", message.get("type"), station_id)

    # ------------------------------------------------------------------------------------------------- jobs

    def _now(self, now: dt.datetime | float | None) -> float:
        if now is None:
            return self.clock()
        return now.timestamp() if isinstance(now, dt.datetime) else float(now)

    async def expire_due(self, now: dt.datetime | None = None) -> int:
        """Finish active sessions past ``ends_at`` (``expired``) and waiting codes past their TTL
        (``code_expired``). Returns how many finished."""
        moment = self._now(now)
        count = 0
        async with self._lock:
            due = [live.session for live in self._live.values() if live.session is not None]
            due = [session for session in due if session.ends_at is not None and session.ends_at <= moment]
            for session in [*due, *await self.store.waiting_expired(moment)]:
                reason = REASON_EXPIRED if session.status == SESSION_ACTIVE else REASON_CODE_EXPIRED
                finished = await self._finish(session, reason)
                if finished is not None:
                    count += 1
                    await self.log(finished.tenant_id, ACTOR_SYSTEM, ACTION_SESSION_EXPIRE,
                                   station_id=finished.station_id, session_id=finished.id,
                                   details={"reason": reason})  # fmt: skip
        return count

    async def warn_due(self, now: dt.datetime | None = None) -> int:
        """Fire ``station_session_ending`` once per threshold (``warn_minutes``) per session, and tell the agent.

        When several thresholds are due at once (the hub was down), only the nearest fires; the others are
        marked passed. Returns how many events fired."""
        moment = self._now(now)
        fired = 0
        async with self._lock:  # add_time re-arms thresholds: one writer of a session at a time
            for live in list(self._live.values()):
                if await self._warn_one(live, moment):
                    fired += 1
        return fired

    async def _warn_one(self, live: LiveStation, moment: float) -> bool:
        session = live.session
        if session is None or session.ends_at is None or session.ends_at <= moment:
            return False
        remaining = session.ends_at - moment
        due = [m for m in self.warn_minutes if remaining <= m * 60 and m not in session.warned]
        if not due:
            return False
        updated = await self.store.update_session(
            session.id, SESSION_ACTIVE, warned=tuple(sorted({*session.warned, *due}))
        )
        if updated is None:
            return False
        live.session = updated
        minutes_left = max(1, math.ceil(remaining / 60))
        self._fire(EVENT_SESSION_ENDING, live, updated, minutes_left=minutes_left)
        await self.send(live.record.id, protocol.warn_message(minutes_left, f"Your session ends in {minutes_left} min"))
        return True

    async def sweep_offline(self, now: float | None = None) -> int:
        """Stations without a heartbeat for ``offline_after`` seconds go offline. Returns how many did."""
        moment = self.clock() if now is None else now
        count = 0
        for live in list(self._live.values()):
            if not live.online or (live.last_seen is not None and moment - live.last_seen < self.offline_after):
                continue
            old = live.status
            live.online = False
            count += 1
            if live.record.device_id is not None:
                await self.hub.devices.disconnected(live.record.device_id)
            record = await self.store.update_station(live.record.id, last_seen=live.last_seen)
            if record is not None:
                live.record = record
            self._status_changed(live, old)
        return count

    async def purge_logs(self, older_than: dt.datetime) -> int:
        """Delete audit lines older than ``older_than`` (the retention job). Returns how many."""
        return await self.store.purge_logs(self._now(older_than))

    def refresh_remaining(self) -> None:
        """Move each active station's remaining-time entity to now (between heartbeats; cheap, in memory)."""
        now = self.clock()
        for live in self._live.values():
            if live.session is not None:
                attributes = dict(live.entities.remaining.extra_attributes or {})
                live.entities.remaining.update(remaining_of(live.session, now), attributes)

    # ----------------------------------------------------------------------------------- publishing, audit

    async def log(
        self,
        tenant_id: str,
        actor: str,
        action: str,
        *,
        station_id: str | None = None,
        session_id: str | None = None,
        visitor_id: str | None = None,
        details: dict[str, Any] | None = None,
        address: str | None = None,
    ) -> int | None:
        """One audit line; a failed write is logged, never raised (the action it records happened)."""
        row = StationLogRow(
            tenant_id=tenant_id,
            time=self.clock(),
            actor=actor[:160],
            action=action,
            station_id=station_id,
            session_id=session_id,
            visitor_id=visitor_id,
            details=details or None,
            address=address[:64] if address else None,
        )
        try:
            return await self.store.add_log(row)
        except Exception:
            _LOGGER.exception("Stations audit line %s by %s could not be written", action, actor)
            return None

    def _fire(self, event_type: str, live: LiveStation, session: SessionRecord, **extra: Any) -> None:
        data = {
            "station": live.record.name,
            "station_id": live.record.id,
            "session_id": session.id,
            "ends_at": iso(session.ends_at),
            **extra,
        }
        self.hub.bus.fire(event_type, data, tenant_id=live.record.tenant_id)
        self._publish(live)

    def _status_changed(self, live: LiveStation, old: str) -> None:
        self._publish(live)
        if live.status != old:
            data = {"station": live.record.name, "station_id": live.record.id, "status": live.status, "old_status": old}
            self.hub.bus.fire(EVENT_STATUS_CHANGED, data, tenant_id=live.record.tenant_id)

    def _publish(self, live: LiveStation) -> None:
        """Write the station's three entities from its live state (each only if it changed)."""
        session = live.session
        now = self.clock()
        live.entities.status.update(
            live.status,
            {"station_id": live.record.id, "address": live.record.address, "last_seen": iso(live.last_seen)},
        )
        ends_at = {"ends_at": iso(session.ends_at)} if session is not None else {}
        live.entities.remaining.update(remaining_of(session, now) if session is not None else 0, ends_at)
        live.entities.session.update(
            session.id if session is not None else "none",
            None
            if session is None
            else {
                "session_id": session.id,
                "visitor_id": session.visitor_id,
                "visitor": live.visitor_name,
                "started_at": iso(session.started_at),
                "ends_at": iso(session.ends_at),
            },
        )


def manager_of(hub: Hub) -> StationManager | None:
    """The hub's StationManager; None when configuration.yaml has no ``stations:`` section."""
    manager = hub.data.get(DOMAIN)
    return manager if isinstance(manager, StationManager) else None


__all__ = [
    "AgentState",
    "CodeRateLimited",
    "HeartbeatResult",
    "InvalidCode",
    "SessionView",
    "StationManager",
    "hash_token",
    "iso",
    "manager_of",
]
