"""The TM20 endpoint: a ``websockets`` server on its own port, one ``TerminalSession`` per socket.

Terminals dial in (the roles are inverted) on any path. Each frame is handled inline in the connection's read
loop, with no task per message: a terminal waits for the answer to its request anyway, and the ``sendlog`` ack
must follow the commit. One sweeper task for all connections sends the pings and closes silent terminals,
instead of a keepalive task per connection (2,000 idle terminals must stay cheap).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

from .const import COMMAND_TIMEOUT, DEFAULT_PORT, MAX_FRAME, OFFLINE_TIMEOUT, PING_INTERVAL
from .protocol import (
    TERMINAL_REQUESTS,
    Message,
    ProtocolError,
    alive_reply,
    as_int,
    clean_log_record,
    cloudtime,
    dumps,
    error_reply,
    parse_message,
    reg_reply,
    registration_info,
    sendlog_reply,
    sendpin_reply,
    sendqrcode_reply,
    senduser_reply,
    serial_of,
)
from .session import (
    CommandFailed,
    CommandTimeout,
    LogDecision,
    QrDecision,
    RegisterDecision,
    SessionClosed,
    TerminalHandler,
    TerminalSession,
)

__all__ = [
    "CommandFailed",
    "CommandTimeout",
    "LogDecision",
    "QrDecision",
    "RegisterDecision",
    "SessionClosed",
    "TerminalHandler",
    "TerminalSession",
    "Tm20Server",
]

_LOGGER = logging.getLogger(__name__)

#: Seconds between two slices of the sweeper's round (see ``Tm20Server._sweep``).
SWEEP_SLICE = 0.5
# websockets logs every connection open/close at INFO: thousands of lines when terminals reconnect together.
_WEBSOCKETS_LOGGER = logging.getLogger("integrations.tm20.websockets")
if _WEBSOCKETS_LOGGER.level == logging.NOTSET:
    _WEBSOCKETS_LOGGER.setLevel(logging.WARNING)
CLOSE_REPLACED = 4000  # application close code: a newer connection took this serial


class Tm20Server:
    """Accepts terminals, answers their requests through ``handler`` and keeps ``sessions`` by serial."""

    def __init__(
        self,
        handler: TerminalHandler,
        *,
        host: str = "0.0.0.0",
        port: int = DEFAULT_PORT,
        ping_interval: float = PING_INTERVAL,
        offline_timeout: float = OFFLINE_TIMEOUT,
        max_frame: int = MAX_FRAME,
        command_timeout: float = COMMAND_TIMEOUT,
        time_zone: ZoneInfo | str = "UTC",
        nosenduser: bool | None = None,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.ping_interval = ping_interval
        self.offline_timeout = offline_timeout
        self.max_frame = max_frame
        self.command_timeout = command_timeout
        self.time_zone = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
        self.nosenduser = nosenduser
        self.sessions: dict[str, TerminalSession] = {}
        self._live: set[TerminalSession] = set()  # every open socket, registered or not
        self._server: Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._requests: dict[str, Callable[[TerminalSession, Message], Awaitable[None]]] = {
            "reg": self._reg,
            "sendlog": self._sendlog,
            "senduser": self._senduser,
            "sendqrcode": self._sendqrcode,
            "sendpin": self._sendpin,
            "heartbeat": self._alive,
            "checklive": self._alive,
        }

    # ------------------------------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Listen; with ``port=0`` the chosen port is in ``self.port`` afterwards."""
        self._stopping = False
        self._server = await serve(
            self._connection,
            self.host,
            self.port,
            max_size=self.max_frame,
            max_queue=8,
            ping_interval=None,  # the sweeper pings every connection
            compression=None,  # terminals do not deflate; a zlib context per socket would cost ~300 KB
            logger=_WEBSOCKETS_LOGGER,
            server_header=None,
        )
        sockets = list(self._server.sockets)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self._sweeper = asyncio.create_task(self._sweep(), name="tm20-sweeper")
        _LOGGER.info("TM20 endpoint listening on ws://%s:%d/ (any path)", self.host, self.port)

    async def stop(self) -> None:
        """Close every connection (pending commands fail with SessionClosed) and stop listening."""
        self._stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for session in list(self._live):
            session.end("stopped")
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def session(self, sn: str) -> TerminalSession | None:
        """The live registered session of a serial, or None when the terminal is not connected."""
        return self.sessions.get(sn)

    @property
    def connection_count(self) -> int:
        return len(self._live)

    # ------------------------------------------------------------------------------------------ connection

    async def _connection(self, websocket: ServerConnection) -> None:
        remote = websocket.remote_address
        address = f"{remote[0]}:{remote[1]}" if isinstance(remote, tuple) and len(remote) >= 2 else str(remote)
        session = TerminalSession(websocket, address, command_timeout=self.command_timeout, time_zone=self.time_zone)
        self._live.add(session)
        reason = "closed"
        try:
            async for frame in websocket:
                await self._frame(session, frame)
        except ConnectionClosedOK:
            pass
        except ConnectionClosed as err:
            if err.rcvd is None and err.sent is not None and err.sent.code == 1009:
                _LOGGER.warning("TM20 %s (%s): frame over %d bytes, closed", session.sn or "?", address, self.max_frame)
            elif err.sent is not None and err.sent.code == 1011:
                reason = "timeout"
        finally:
            self._live.discard(session)
            await self._ended(session, session.ended or ("stopped" if self._stopping else reason))

    async def _ended(self, session: TerminalSession, reason: str) -> None:
        session.end(reason)
        sn = session.sn
        if sn is not None and self.sessions.get(sn) is session:
            del self.sessions[sn]
        if session.registered:  # a replaced session was reported when its successor registered
            session.registered = False
            await self._call(self.handler.on_disconnected(session, reason), session, "on_disconnected")

    async def _frame(self, session: TerminalSession, frame: str | bytes) -> None:
        session.last_seen = time.time()
        try:
            message = parse_message(frame)
        except ProtocolError as err:
            if session.first_time(f"invalid:{err.reason}"):
                _LOGGER.warning("TM20 %s (%s): %s: %.200r", session.sn or "?", session.remote, err.reason, frame)
            if err.name is not None and (err.name in TERMINAL_REQUESTS or not session.expects(err.name)):
                # a broken request we can still answer by name (a broken reply just times out its command)
                await self._reply(session, error_reply(err.name, err.reason))
            return
        if session.registered:
            await self._call(self.handler.on_seen(session), session, "on_seen")
        if message.kind == "reply":
            if not session.resolve(message) and session.first_time(f"unexpected:{message.name}"):
                _LOGGER.info("TM20 %s: reply %r that no command waits for", session.sn, message.name)
            return
        handle = self._requests.get(message.name)
        if handle is None:
            if session.expects(message.name):  # firmware that echoes cmd instead of ret
                message.kind, message.echoed = "reply", True
                session.resolve(message)
                return
            if session.first_time(f"unknown:{message.name}"):
                _LOGGER.warning("TM20 %s: unknown request %r", session.sn or session.remote, message.name)
            await self._reply(session, error_reply(message.name, "unknown command"))
            return
        if message.name != "reg" and not session.registered:
            if session.first_time("unregistered"):
                _LOGGER.warning("TM20 %s: %r before a successful reg", session.remote, message.name)
            await self._reply(session, error_reply(message.name, 1 if message.name == "sendlog" else "not registered"))
            return
        await handle(session, message)

    # ------------------------------------------------------------------------------------------- requests

    async def _reg(self, session: TerminalSession, message: Message) -> None:
        sn = serial_of(message.body)
        if sn is None:
            self._bad(session, "reg", "reg without sn")
            await self._reply(session, reg_reply(False, cloudtime=self._now(session), reason="missing sn"))
            return
        if session.registered and session.sn != sn:  # the same socket changing serial: drop the old mapping
            if self.sessions.get(session.sn or "") is session:
                del self.sessions[session.sn or ""]
            session.registered = False
        session.sn = sn
        session.devinfo = registration_info(message.body)
        decision = await self._call(self.handler.on_register(session, session.devinfo), session, "on_register")
        if decision is None:
            decision = RegisterDecision(False, "server error, try again")
        if not decision.accepted:
            session.registered = False
            _LOGGER.info("TM20 %s (%s): registration refused: %s", sn, session.remote, decision.reason)
            await self._reply(session, reg_reply(False, cloudtime=self._now(session), reason=decision.reason))
            return
        old = self.sessions.get(sn)
        self.sessions[sn] = session
        session.registered = True
        if old is not None and old is not session:
            _LOGGER.info("TM20 %s: new connection from %s replaces the one from %s", sn, session.remote, old.remote)
            old.end("replaced")
            old.registered = False
            self._spawn(old.connection.close(CLOSE_REPLACED, "replaced by a newer connection"))
            await self._call(self.handler.on_disconnected(old, "replaced"), old, "on_disconnected")
        await self._reply(session, reg_reply(True, cloudtime=self._now(session), nosenduser=self.nosenduser))
        self._spawn(self._registered(session))

    async def _registered(self, session: TerminalSession) -> None:
        try:
            await self.handler.on_registered(session)
        except SessionClosed:
            pass
        except Exception:
            _LOGGER.exception("TM20 %s: on_registered failed", session.sn)

    async def _sendlog(self, session: TerminalSession, message: Message) -> None:
        body = message.body
        count, logindex = as_int(body.get("count")), as_int(body.get("logindex"))
        raw = body.get("record", [])
        if not isinstance(raw, list):
            self._bad(session, "sendlog", "record is not a list")
            await self._reply(
                session, sendlog_reply(False, count=count, logindex=logindex, cloudtime=self._now(session))
            )
            return
        records = []
        for item in raw:
            record = clean_log_record(item)
            if record is None:
                self._bad(session, "sendlog", f"unusable log record dropped: {item!r:.200}")
            else:
                records.append(record)
        decision: LogDecision | None = LogDecision()
        if records:
            decision = await self._call(
                self.handler.on_logs(session, records, count=count, logindex=logindex), session, "on_logs"
            )
        if decision is None:  # not committed: the terminal retries the same batch
            reply = sendlog_reply(False, count=count, logindex=logindex, cloudtime=self._now(session), reason=1)
        else:
            reply = sendlog_reply(
                True,
                count=count,
                logindex=logindex,
                cloudtime=self._now(session),
                access=decision.access,
                message=decision.message,
            )
        await self._reply(session, reply)

    async def _senduser(self, session: TerminalSession, message: Message) -> None:
        body = message.body
        enrollid, backupnum = as_int(body.get("enrollid")), as_int(body.get("backupnum"))
        if enrollid is None or backupnum is None:
            self._bad(session, "senduser", "senduser without a numeric enrollid/backupnum")
            await self._reply(session, error_reply("senduser", "enrollid and backupnum must be numbers"))
            return
        user = dict(body)
        user.pop("cmd", None)
        user["enrollid"], user["backupnum"] = enrollid, backupnum
        user["admin"] = as_int(body.get("admin", 0)) or 0
        user["name"] = str(body.get("name") or "")
        stored = await self._call(self.handler.on_user(session, user), session, "on_user", ok=True)
        await self._reply(
            session,
            senduser_reply(stored is not None, cloudtime=self._now(session), enrollid=enrollid, backupnum=backupnum),
        )

    async def _sendqrcode(self, session: TerminalSession, message: Message) -> None:
        text = message.body.get("record")
        if isinstance(text, int | float) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str):
            self._bad(session, "sendqrcode", "sendqrcode without a text record")
            await self._reply(session, error_reply("sendqrcode", "record must be text"))
            return
        decision = await self._call(self.handler.on_qrcode(session, text), session, "on_qrcode")
        await self._reply(session, self._decision_reply("sendqrcode", session, decision))

    async def _sendpin(self, session: TerminalSession, message: Message) -> None:
        pin = message.body.get("pin")
        if isinstance(pin, int) and not isinstance(pin, bool):
            pin = str(pin)
        if not isinstance(pin, str):
            self._bad(session, "sendpin", "sendpin without a pin")
            await self._reply(session, error_reply("sendpin", "pin must be digits"))
            return
        when = message.body.get("time")
        decision = await self._call(
            self.handler.on_pin(session, pin, when if isinstance(when, str) else None), session, "on_pin"
        )
        await self._reply(session, self._decision_reply("sendpin", session, decision))

    def _decision_reply(self, name: str, session: TerminalSession, decision: QrDecision | None) -> dict[str, Any]:
        now = self._now(session)
        if decision is None:
            return (
                sendqrcode_reply(False, cloudtime=now) if name == "sendqrcode" else sendpin_reply(False, cloudtime=now)
            )
        if name == "sendqrcode":
            return sendqrcode_reply(
                True,
                cloudtime=now,
                access=decision.access,
                enrollid=decision.enrollid,
                username=decision.username,
                message=decision.message,
            )
        return sendpin_reply(
            True, cloudtime=now, access=decision.access, message=decision.message, name=decision.username
        )

    async def _alive(self, session: TerminalSession, message: Message) -> None:
        await self._reply(session, alive_reply(message.name, cloudtime=self._now(session)))

    # -------------------------------------------------------------------------------------------- helpers

    def _now(self, session: TerminalSession) -> str:
        return cloudtime(datetime.now(UTC), session.time_zone)

    async def _reply(self, session: TerminalSession, payload: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):  # the read loop sees the close and ends the session
            await session.connection.send(dumps(payload))

    def _bad(self, session: TerminalSession, name: str, what: str) -> None:
        if session.first_time(f"bad:{name}"):
            _LOGGER.warning("TM20 %s (%s): %s", session.sn or "?", session.remote, what)

    async def _call(self, awaitable: Awaitable[Any], session: TerminalSession, what: str, *, ok: bool = False) -> Any:
        """Await a handler method; its failure is logged (once per connection and method) and gives None."""
        try:
            result = await awaitable
        except Exception:
            if session.first_time(f"handler:{what}"):
                _LOGGER.exception("TM20 %s: %s failed", session.sn or session.remote, what)
            else:
                _LOGGER.debug("TM20 %s: %s failed again", session.sn, what, exc_info=True)
            return None
        return True if ok and result is None else result

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --------------------------------------------------------------------------------------------- sweeper

    async def _sweep(self) -> None:
        """Ping each socket once per ``ping_interval``, report the live ones, close those silent too long.

        A round is spread over the whole interval in slices of ``SWEEP_SLICE`` s, so 2,000 terminals cost a few
        dozen pings every half second instead of one burst that would hold the acks back.
        """
        loop = asyncio.get_running_loop()
        while True:
            slices = max(1, round(self.ping_interval / SWEEP_SLICE))
            pause = self.ping_interval / slices
            sessions = list(self._live)
            per_slice = -(-len(sessions) // slices)  # ceiling: every session once per round
            for first in range(0, slices * per_slice or 1, per_slice or 1):
                began = loop.time()
                now = time.time()
                for session in sessions[first : first + per_slice]:
                    await self._sweep_one(session, now)
                await asyncio.sleep(max(0.0, pause - (loop.time() - began)))

    async def _sweep_one(self, session: TerminalSession, now: float) -> None:
        if session.ended is not None:
            return
        connection = session.connection
        if now - session.last_seen > self.offline_timeout:
            silent = now - session.last_seen
            _LOGGER.info("TM20 %s (%s): silent for %.0f s, closing", session.sn, session.remote, silent)
            session.end("timeout")
            # no closing handshake with a terminal that answers nothing: drop the TCP connection now
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
            else:
                self._spawn(connection.close(1011, "silent past the offline timeout"))
            return
        if session.registered and now - session.last_seen <= self.ping_interval * 2:
            await self._call(self.handler.on_seen(session), session, "on_seen")
        try:
            waiter = await connection.ping()  # type: ignore[attr-defined]
        except ConnectionClosed:
            return
        waiter.add_done_callback(lambda future, session=session: _ponged(future, session))


def _ponged(future: asyncio.Future[float], session: TerminalSession) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    session.last_seen = time.time()
