"""The station agent endpoint ``GET /ws/station/{address}`` and the registry of connected agents.

An agent authenticates with its station's token (``Authorization: Bearer <token>`` or ``?token=``), not with a
user session: the route is outside ``/api`` and undeclared, so the hub's access middleware lets it through and
this handler checks the token itself, before the upgrade. An unknown station (404) or a missing or wrong token
(401) gets the hub's usual JSON error, so a misconfigured agent's log says what is wrong.

Once upgraded, the hub says ``hello`` (the station and its session as the hub sees them), then serves the
agent's messages one at a time through the ``StationManager``. One live connection per station: a second one
replaces the first, which is closed with a reason. Outgoing messages go through a small per-connection queue
drained by one writer task, so the manager can push (``AgentConnections.send``) from anywhere without awaiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, Final

from aiohttp import WSCloseCode, WSMsgType, web

from hub.auth.scope import NotFound
from hub.core import EVENT_HUB_STOP, Event, Hub
from hub.http import hub_of
from hub.http.errors import WWW_AUTHENTICATE, ApiError

from . import protocol
from .const import NOT_SET_UP_MESSAGE
from .errors import CodeRateLimited, InvalidCode, InvalidInput, StationUnavailable
from .manager import SessionView, StationManager, iso, manager_of

__all__ = ["AgentConnection", "AgentConnections", "agent_routes", "connections_of"]

_LOGGER = logging.getLogger(__name__)

PATH: Final = "/ws/station/{address}"
#: Agent frames are small JSON objects; anything bigger is a broken or hostile agent (closed with 1009).
MAX_MESSAGE_SIZE: Final = 64 * 1024
#: Outgoing messages one agent may have queued before it counts as stuck and is disconnected.
MAX_PENDING: Final = 256
#: WebSocket pings: a half-open TCP connection is noticed even when the agent's heartbeats are slow.
PING_INTERVAL: Final = 30.0
CLOSE_REPLACED: Final = 4000
CLOSE_TOO_SLOW: Final = 4001
CLOSE_STATION_GONE: Final = 4004
_CLOSE_TIMEOUT: Final = 2.0
_DATA_KEY: Final = "stations_agent_connections"


def agent_routes(hub: Hub) -> list[web.RouteDef]:
    """The endpoint the stations integration mounts through its ``http_routes`` hook."""
    return [web.get(PATH, agent_handler)]


def connections_of(hub: Hub, manager: StationManager) -> AgentConnections:
    """This hub's registry, made on first use; it becomes the manager's way of reaching agents."""
    connections: AgentConnections | None = hub.data.get(_DATA_KEY)
    if connections is None:
        connections = hub.data[_DATA_KEY] = AgentConnections()
        live = connections

        def close_all(event: Event[Any]) -> None:
            live.close_all(WSCloseCode.GOING_AWAY, "the hub is stopping")

        hub.bus.listen(EVENT_HUB_STOP, close_all)
    if manager.sender != connections.send:
        manager.sender = connections.send
    return connections


class AgentConnections:
    """The one live connection of each station, by station id."""

    def __init__(self) -> None:
        self._by_station: dict[str, AgentConnection] = {}

    def __len__(self) -> int:
        return len(self._by_station)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._by_station

    def get(self, station_id: str) -> AgentConnection | None:
        return self._by_station.get(station_id)

    def send(self, station_id: str, message: dict[str, Any]) -> bool:
        """Queue ``message`` for the station's agent; False (dropped) when none is connected."""
        connection = self._by_station.get(station_id)
        if connection is None:
            return False
        return connection.send(message)

    def register(self, connection: AgentConnection) -> None:
        previous = self._by_station.get(connection.station_id)
        self._by_station[connection.station_id] = connection
        if previous is not None and previous is not connection:
            _LOGGER.info("Station %s connected again from %s: closing its previous connection", connection.name,
                         connection.remote)  # fmt: skip
            previous.close(CLOSE_REPLACED, "replaced by a newer connection of this station")

    def unregister(self, connection: AgentConnection) -> bool:
        """Forget ``connection``; True when it was the station's current one (so the station is now offline)."""
        if self._by_station.get(connection.station_id) is connection:
            del self._by_station[connection.station_id]
            return True
        return False

    def close_all(self, code: int, reason: str) -> None:
        for connection in list(self._by_station.values()):
            connection.close(code, reason)


class AgentConnection:
    """One agent's socket: an outgoing queue drained by a writer task, closed without awaiting from anywhere."""

    __slots__ = (
        "_closing",
        "_early",
        "_queue",
        "_ready",
        "_tasks",
        "_writer",
        "bad_messages",
        "name",
        "remote",
        "station_id",
        "ws",
    )

    def __init__(self, station_id: str, name: str, remote: str | None, ws: web.WebSocketResponse) -> None:
        self.station_id = station_id
        self.name = name
        self.remote = remote
        self.ws = ws
        self._queue: deque[str] = deque()
        self._ready: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._early: list[dict[str, Any]] | None = []  # pushed before hello went out; None once it has
        self.bad_messages = 0

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(), name=f"station {self.name} writer")

    def greet(self, hello: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        """``hello`` first, then the connection's first messages, then whatever was pushed meanwhile."""
        early, self._early = self._early or [], None
        for message in (hello, *messages, *early):
            self.send(message)

    def send(self, message: dict[str, Any]) -> bool:
        if self._closing:
            return False
        if self._early is not None:
            self._early.append(message)
            return True
        self._queue.append(protocol.dumps(message))
        if len(self._queue) > MAX_PENDING:
            _LOGGER.warning("Station agent %s (%s) does not read its messages: disconnecting it", self.name,
                            self.remote)  # fmt: skip
            self.close(CLOSE_TOO_SLOW, "too slow: the outgoing queue is full")
            return False
        ready, self._ready = self._ready, None
        if ready is not None and not ready.done():
            ready.set_result(None)
        return True

    async def _write_loop(self) -> None:
        queue = self._queue
        loop = asyncio.get_running_loop()
        try:
            while not self._closing:
                if not queue:
                    self._ready = ready = loop.create_future()
                    await ready
                    continue
                await self.ws.send_str(queue.popleft())
        except (ConnectionError, RuntimeError):  # the agent went away mid-write; the reader sees it too
            self.close()

    def close(self, code: int = WSCloseCode.OK, reason: str = "") -> None:
        if self._closing:
            return
        self._closing = True
        ready, self._ready = self._ready, None
        if ready is not None and not ready.done():
            ready.set_result(None)
        task = asyncio.get_running_loop().create_task(self._close(code, reason), name=f"station {self.name} close")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, code: int, reason: str) -> None:
        # Let what was queued before the close (a close_session, an error) reach the agent first.
        while self._queue and not self.ws.closed:
            try:
                await self.ws.send_str(self._queue.popleft())
            except (ConnectionError, RuntimeError):
                break
        self._queue.clear()
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self.ws.close(code=code, message=reason.encode()[:120])
        except (TimeoutError, ConnectionError):
            pass

    def stop_writer(self) -> None:
        self._closing = True
        if self._writer is not None:
            self._writer.cancel()


# ------------------------------------------------------------------------------------------------- handler


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "invalid_token",
                "the Authorization header must be 'Bearer <station token>'",
                {"Authorization": "expected 'Bearer <station token>'"},
                WWW_AUTHENTICATE,
            )
        return token.strip()
    return request.query.get("token") or None


async def agent_handler(request: web.Request) -> web.StreamResponse:
    """Check the station and its token, upgrade, say hello, then serve the agent until either side closes."""
    hub = hub_of(request)
    manager = manager_of(hub)
    if manager is None:
        raise ApiError(404, "not_set_up", NOT_SET_UP_MESSAGE)
    address = request.match_info["address"]
    station = await manager.station_by_address(address)
    if station is None:
        raise ApiError(
            404, "unknown_station", f"no station has the address or name {address!r}", {"address": "unknown station"}
        )
    token = _token(request)
    if token is None:
        raise ApiError(
            401,
            "missing_token",
            "send the station's agent token: 'Authorization: Bearer <token>' or ?token=<token>",
            {"token": "required"},
            WWW_AUTHENTICATE,
        )
    if not manager.check_token(station, token):
        _LOGGER.info("Station agent for %s from %s refused: wrong token", station.name, request.remote)
        raise ApiError(
            401, "invalid_token", "wrong agent token for this station", {"token": "invalid"}, WWW_AUTHENTICATE
        )

    ws = web.WebSocketResponse(heartbeat=PING_INTERVAL, max_msg_size=MAX_MESSAGE_SIZE)
    await ws.prepare(request)
    connections = connections_of(hub, manager)
    connection = AgentConnection(station.id, station.name, request.remote, ws)
    connection.start()
    connections.register(connection)
    try:
        state = await manager.agent_connected(station.id)
        info = manager.station_info(station.id)
        connection.greet(
            protocol.hello_message(info, manager.heartbeat_interval, _session(state.session)), state.messages
        )
        await _serve(manager, connection, request.remote or "")
    finally:
        connection.stop_writer()
        if connections.unregister(connection):
            try:
                await manager.agent_disconnected(station.id)
            except Exception:  # the hub may be stopping under us; the next connection sets things right
                _LOGGER.exception("Station %s: recording its disconnection failed", station.name)
    return ws


def _session(view: SessionView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {"session_id": view.id, "code": view.code, "ends_at": iso(view.ends_at), "remaining": view.remaining}


async def _serve(manager: StationManager, connection: AgentConnection, client: str) -> None:
    async for frame in connection.ws:
        if frame.type == WSMsgType.TEXT:
            await _handle(manager, connection, frame.data, client)
        elif frame.type == WSMsgType.BINARY:
            connection.send(protocol.error_message(protocol.ERROR_INVALID_MESSAGE, "send JSON text frames, not binary"))
        elif frame.type == WSMsgType.ERROR:
            _LOGGER.info("Station agent %s connection error: %s", connection.name, frame.data)
            return


async def _handle(manager: StationManager, connection: AgentConnection, text: str, client: str) -> None:
    """One agent message; whatever goes wrong is answered with an ``error`` and the connection stays open."""
    try:
        message = protocol.parse_agent_message(text)
    except protocol.ProtocolError as error:
        connection.bad_messages += 1
        # Once per connection: a broken agent repeating itself must not flood the hub's log.
        level = logging.WARNING if connection.bad_messages == 1 else logging.DEBUG
        _LOGGER.log(level, "Station agent %s (%s) sent a bad message: %s", connection.name, connection.remote,
                    error.message)  # fmt: skip
        connection.send(error.as_message())
        return
    station_id = connection.station_id
    try:
        if isinstance(message, protocol.Heartbeat):
            result = await manager.heartbeat(station_id, remaining=message.remaining, code=message.code)
            for reply in result.reply:
                connection.send(reply)
        elif isinstance(message, protocol.Validate):
            await manager.validate_code(message.code, station_id=station_id, client=client)
        else:
            _LOGGER.debug("Station agent %s acknowledged %s", connection.name, message.id)
    except CodeRateLimited as error:
        connection.send(
            protocol.error_message(
                protocol.ERROR_RATE_LIMITED,
                "too many wrong codes: wait before trying again",
                field="code",
                retry_after=error.retry_after,
            )
        )
    except InvalidCode as error:
        connection.send(protocol.error_message(protocol.ERROR_INVALID_CODE, error.reason, field="code"))
    except StationUnavailable as error:
        connection.send(protocol.error_message(protocol.ERROR_STATION_UNAVAILABLE, str(error), field="code"))
    except InvalidInput as error:
        connection.send(protocol.error_message(protocol.ERROR_INVALID_MESSAGE, error.reason, field=error.field))
    except NotFound:  # the station was deleted while its agent was connected
        connection.send(protocol.error_message(protocol.ERROR_UNKNOWN_STATION, "this station no longer exists"))
        connection.close(CLOSE_STATION_GONE, "the station was deleted")
    except Exception:
        _LOGGER.exception("Station agent %s: handling %s failed", connection.name, type(message).__name__)
        connection.send(protocol.error_message(protocol.ERROR_INTERNAL, "the hub could not handle this message"))
