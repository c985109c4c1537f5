"""The WebSocket API at ``/api/websocket``, speaking Home Assistant's protocol so its clients work unchanged.

A connection goes through two phases. Auth: the hub says ``auth_required``; the client answers with
``{"type": "auth", "access_token": ...}`` (a JWT access token or an API key) within ten seconds, and gets
``auth_ok`` or ``auth_invalid`` (then the socket closes). Commands: ``{"id": n, "type": ...}`` messages with
increasing ids, answered by ``result`` messages; subscriptions push ``event`` messages under their id. The
commands themselves live in ``websocket_commands``; everything a connection reads goes through its
``TenantScope``.

Sending never blocks the hub: bus listeners only append text to a bounded per-connection queue that one writer
task drains (coalescing queued messages into one JSON array frame when the client announced
``coalesce_messages``). A client that falls more than ``MAX_PENDING_MESSAGES`` behind is disconnected, logged
once; the hub and other clients carry on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Final

import voluptuous as vol
from aiohttp import WSCloseCode, WSMsgType, web

from hub.auth.errors import InvalidToken
from hub.auth.scope import Caller, Forbidden, NotFound, TenantScope
from hub.core import EVENT_HUB_STOP, Event, Hub
from hub.exceptions import HubError, ServiceNotFound, ServiceValidationError, Unauthorized
from hub.http import VERSION, dumps, hub_of
from hub.http.websocket_commands import COMMANDS
from hub.http.websocket_messages import (
    ERR_HOME_ASSISTANT_ERROR,
    ERR_ID_REUSE,
    ERR_INVALID_FORMAT,
    ERR_NOT_FOUND,
    ERR_UNAUTHORIZED,
    ERR_UNKNOWN_COMMAND,
    ERR_UNKNOWN_ERROR,
    error_message,
    event_message,
    result_message,
)
from hub.validation import invalid_fields

__all__ = [
    "AUTH_TIMEOUT",
    "MAX_MESSAGE_SIZE",
    "MAX_PENDING_MESSAGES",
    "ActiveConnection",
    "open_connections",
    "websocket_routes",
]

_LOGGER = logging.getLogger(__name__)

#: Seconds a new connection has to send its auth message (Home Assistant's figure).
AUTH_TIMEOUT: Final = 10.0
#: Largest frame a client may send; bigger ones close the connection with 1009 (message too big).
MAX_MESSAGE_SIZE: Final = 4 * 1024 * 1024
#: Outgoing messages a connection may have queued before it counts as too slow and is disconnected.
MAX_PENDING_MESSAGES: Final = 2048
#: Seconds between pings from the server; a client that does not answer within half of it is dropped.
HEARTBEAT: Final = 55.0
#: ``hub.data`` key holding the number of open, authenticated WebSocket connections (read by /metrics).

_REGISTRY_KEY: Final = "websocket_registry"
_CLOSE_TIMEOUT: Final = 2.0

_AUTH_MESSAGE = vol.Schema({vol.Required("type"): "auth", vol.Required("access_token"): str}, extra=vol.ALLOW_EXTRA)


def websocket_routes() -> list[web.RouteDef]:
    """The route the HTTP server mounts: ``GET /api/websocket``."""
    return [web.get("/api/websocket", websocket_handler)]


async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    """Upgrade, authenticate, then serve commands until either side closes."""
    hub = hub_of(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE_SIZE)
    await ws.prepare(request)
    caller = await _authenticate(hub, ws)
    if caller is None:
        return ws
    connection = ActiveConnection(hub, TenantScope(hub, caller), ws, request)
    registry = _registry(hub)
    registry.add(connection)
    try:
        await connection.serve()
    finally:
        registry.discard(connection)
    return ws


def open_connections(hub: Hub) -> int:
    """Signed-in WebSocket connections right now (for /metrics)."""
    return len(hub.data.get(_REGISTRY_KEY, ()))


def _registry(hub: Hub) -> set[ActiveConnection]:
    """The live connections of this hub; the first one also arranges for all of them to close at hub stop."""
    registry: set[ActiveConnection] | None = hub.data.get(_REGISTRY_KEY)
    if registry is None:
        registry = hub.data[_REGISTRY_KEY] = set()
        live = registry

        def close_all(event: Event[Any]) -> None:
            for connection in list(live):
                connection.close(WSCloseCode.GOING_AWAY, "the hub is stopping")

        hub.bus.listen(EVENT_HUB_STOP, close_all)
    return registry


async def _authenticate(hub: Hub, ws: web.WebSocketResponse) -> Caller | None:
    """The auth phase: None when the client failed it (the socket is closed by then)."""
    await ws.send_str(dumps({"type": "auth_required", "ha_version": VERSION}))
    try:
        message = await ws.receive(timeout=AUTH_TIMEOUT)
    except TimeoutError:
        _LOGGER.info("WebSocket client sent no auth message within %s s", AUTH_TIMEOUT)
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"no auth message in time")
        return None
    if message.type != WSMsgType.TEXT:
        if message.type not in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"expected a JSON auth message")
        return None
    try:
        auth = _AUTH_MESSAGE(json.loads(message.data))
    except (ValueError, vol.Invalid) as error:
        reason = _describe_invalid(error) if isinstance(error, vol.Invalid) else "not valid JSON"
        await _refuse(ws, f"Auth message incorrectly formatted: {reason}")
        return None
    try:
        caller = hub.auth.authenticate(auth["access_token"])
    except InvalidToken:
        await _refuse(ws, "Invalid access token or API key")
        return None
    await ws.send_str(dumps({"type": "auth_ok", "ha_version": VERSION}))
    return caller


async def _refuse(ws: web.WebSocketResponse, reason: str) -> None:
    await ws.send_str(dumps({"type": "auth_invalid", "message": reason}))
    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"authentication failed")


def _describe_invalid(error: vol.Invalid) -> str:
    """``domain: required; target.entity_id: expected str`` - every field at fault, by its dotted path."""
    return "; ".join(f"{name}: {reason}" for name, reason in invalid_fields(error).items())


class ActiveConnection:
    """One authenticated client: its scope, its subscriptions, its last message id and its outgoing queue."""

    __slots__ = (
        "_closing",
        "_queue",
        "_ready",
        "_request",
        "_tasks",
        "_writer",
        "can_coalesce",
        "hub",
        "last_id",
        "scope",
        "subscriptions",
        "supported_features",
        "ws",
    )

    def __init__(self, hub: Hub, scope: TenantScope, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.hub = hub
        self.scope = scope
        self.ws = ws
        self._request = request
        self.last_id = 0
        self.subscriptions: dict[int, Callable[[], None]] = {}
        self.supported_features: dict[str, int] = {}
        self.can_coalesce = False
        self._queue: deque[str] = deque()
        self._ready: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    @property
    def caller(self) -> Caller:
        return self.scope.caller

    @property
    def address(self) -> str | None:
        return self._request.remote

    # ---------------------------------------------------------------------------------------- sending

    def send_message(self, text: str) -> None:
        """Queue one JSON message; never awaits, so bus listeners may call it. Too slow a client is dropped.

        On the hot path of every event for every subscriber: after ``close`` nothing calls it any more (the
        subscriptions are gone), so it checks only the queue's length and wakes the writer if it sleeps.
        """
        queue = self._queue
        queue.append(text)
        if len(queue) > MAX_PENDING_MESSAGES:
            self._too_slow()
            return
        ready = self._ready
        if ready is not None:
            self._ready = None
            ready.set_result(None)

    def _too_slow(self) -> None:
        if self._closing:
            self._queue.clear()
            return
        _LOGGER.warning(
            "WebSocket client %s (%s) is too slow: more than %d messages queued, disconnecting it",
            self._request.remote,
            self.caller.name or self.caller.user_id,
            MAX_PENDING_MESSAGES,
        )
        self.close(WSCloseCode.POLICY_VIOLATION, "too slow: the outgoing queue is full", abort=True)

    def send_result(self, msg_id: int, result: Any = None) -> None:
        self.send_message(result_message(msg_id, result))

    def send_error(self, msg_id: int | None, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        self.send_message(error_message(msg_id, code, message, fields))

    def send_event(self, msg_id: int, event: Any) -> None:
        self.send_message(event_message(msg_id, event))

    async def _write_loop(self) -> None:
        """Drain the queue into the socket: several queued messages go as one array frame when allowed."""
        queue = self._queue
        ws = self.ws
        loop = asyncio.get_running_loop()
        try:
            while not self._closing:
                if not queue:
                    self._ready = ready = loop.create_future()
                    await ready
                    continue
                if self.can_coalesce and len(queue) > 1:
                    text = "[" + ",".join(queue) + "]"
                    queue.clear()
                else:
                    text = queue.popleft()
                await ws.send_str(text)
        except (ConnectionError, RuntimeError):  # the client went away mid-write: the reader sees it too
            self.close()

    # ---------------------------------------------------------------------------------------- receiving

    async def serve(self) -> None:
        """Read messages until the socket closes; then drop every subscription and task of this connection."""
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(), name="websocket writer")
        try:
            async for message in self.ws:
                if message.type == WSMsgType.TEXT:
                    self._handle_text(message.data)
                elif message.type == WSMsgType.BINARY:
                    await self.ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"only JSON text frames")
                elif message.type == WSMsgType.ERROR:
                    _LOGGER.info("WebSocket connection closed: %s", message.data)
                    break
        finally:
            self._cleanup()

    def _handle_text(self, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError as error:
            self.send_error(0, ERR_INVALID_FORMAT, f"Message is not valid JSON: {error}")
            return
        if isinstance(payload, list):  # several messages in one frame, as Home Assistant accepts
            for message in payload:
                self.handle(message)
        else:
            self.handle(payload)

    def handle(self, message: Any) -> None:
        """Check the envelope, the id order and the command's schema, then run the command's handler."""
        if not isinstance(message, dict):
            self.send_error(0, ERR_INVALID_FORMAT, "Message incorrectly formatted: expected a JSON object")
            return
        msg_id, msg_type = message.get("id"), message.get("type")
        if type(msg_id) is not int or msg_id < 0:
            reason = "id: required" if msg_id is None else "id: expected a positive integer"
            self.send_error(None, ERR_INVALID_FORMAT, f"Message incorrectly formatted: {reason}", {"id": reason[4:]})
            return
        if type(msg_type) is not str or not msg_type:
            reason = "required" if msg_type is None else "expected a string"
            self.send_error(
                msg_id, ERR_INVALID_FORMAT, f"Message incorrectly formatted: type: {reason}", {"type": reason}
            )
            return
        if msg_id <= self.last_id:
            self.send_error(msg_id, ERR_ID_REUSE, "Identifier values have to increase.")
            return
        self.last_id = msg_id
        command = COMMANDS.get(msg_type)
        if command is None:
            self.send_error(msg_id, ERR_UNKNOWN_COMMAND, f"Unknown command: {msg_type}")
            return
        try:
            validated = command.schema(message)
            result = command.handler(self, validated)
        except Exception as error:
            self.handle_exception(msg_id, error)
            return
        if asyncio.iscoroutine(result):
            self._run(msg_id, result)

    def _run(self, msg_id: int, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Async commands run as tasks of this connection, so a slow service call never holds up the others."""
        task = asyncio.get_running_loop().create_task(self._guarded(msg_id, coroutine), name=f"websocket {msg_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, msg_id: int, coroutine: Coroutine[Any, Any, Any]) -> None:
        try:
            await coroutine
        except Exception as error:
            self.handle_exception(msg_id, error)

    def handle_exception(self, msg_id: int, error: Exception) -> None:
        """One error reply per failure, with Home Assistant's codes; unexpected errors are logged with traces."""
        match error:
            case vol.Invalid():
                fields = invalid_fields(error)
                self.send_error(msg_id, ERR_INVALID_FORMAT, _describe_invalid(error), fields)
            case ServiceValidationError():
                self.send_error(msg_id, ERR_INVALID_FORMAT, str(error), error.fields)
            case ServiceNotFound() | NotFound():
                self.send_error(msg_id, ERR_NOT_FOUND, str(error))
            case Forbidden():
                self.send_error(msg_id, ERR_UNAUTHORIZED, str(error) or "Unauthorized")
            case Unauthorized():  # outside the caller's tenant: it does not exist for them
                self.send_error(msg_id, ERR_NOT_FOUND, "not found")
            case HubError():
                self.send_error(msg_id, ERR_HOME_ASSISTANT_ERROR, str(error))
            case _:
                _LOGGER.exception("Error handling WebSocket message %s", msg_id, exc_info=error)
                self.send_error(msg_id, ERR_UNKNOWN_ERROR, "Unknown error; the hub's log has the details")

    # ---------------------------------------------------------------------------------------- closing

    def close(self, code: int = WSCloseCode.OK, reason: str = "", *, abort: bool = False) -> None:
        """Close from anywhere (a listener, the writer, hub stop) without awaiting: a task does the closing."""
        if self._closing:
            return
        self._closing = True
        self._queue.clear()
        self._unsubscribe_all()
        ready, self._ready = self._ready, None
        if ready is not None and not ready.done():
            ready.set_result(None)
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._close(code, reason, abort), name="websocket close")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, code: int, reason: str, abort: bool) -> None:
        writer = self._writer
        if writer is not None and abort:
            writer.cancel()  # it may be stuck writing to a client that does not read
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self.ws.close(code=code, message=reason.encode()[:120])
        except (TimeoutError, ConnectionError):
            pass
        finally:
            # A client that does not read never lets the close frame (nor buffered data) out: drop the socket.
            transport = self._request.transport
            if abort and transport is not None:
                transport.abort()

    def _unsubscribe_all(self) -> None:
        subscriptions, self.subscriptions = self.subscriptions, {}
        for unsubscribe in subscriptions.values():
            unsubscribe()

    def _cleanup(self) -> None:
        self._closing = True
        self._unsubscribe_all()
        self._queue.clear()
        if self._writer is not None:
            self._writer.cancel()
        for task in list(self._tasks):
            if task.get_name() != "websocket close":
                task.cancel()
