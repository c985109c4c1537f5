"""One connected terminal: its identity, its outstanding commands, and the handler boundary the server calls.

Replies carry no request id, so at most one command per name is outstanding on a connection (a per-name lock)
and a reply is matched by its ``ret`` name, or by its ``cmd`` name for firmware that echoes ``cmd``. State is kept
small (slots, lazily created dicts) because a hub holds thousands of idle sessions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from .const import COMMAND_TIMEOUT
from .protocol import NO_REPLY_COMMANDS, Message, as_int, command, dumps

_LOGGER = logging.getLogger(__name__)

PAGE_CAP = 1000
UTC = ZoneInfo("UTC")


class Tm20Error(Exception):
    """Base of the errors a command to a terminal can raise."""


class SessionClosed(Tm20Error):
    """The connection ended, or a newer connection with the same serial replaced it, before the reply came."""

    def __init__(self, sn: str | None, reason: str) -> None:
        super().__init__(f"terminal {sn or '?'}: session closed ({reason})")
        self.sn = sn
        self.reason = reason


class CommandTimeout(Tm20Error):
    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(f"{name}: no reply within {timeout:g} s")
        self.name = name
        self.timeout = timeout


class CommandFailed(Tm20Error):
    """The terminal answered ``result: false``; ``reason`` (int or text) and ``msg`` are as it sent them."""

    def __init__(self, name: str, reason: Any, msg: str | None, reply: dict[str, Any] | None = None) -> None:
        text = f"{name} failed: reason {reason!r}" + (f", {msg}" if msg else "")
        super().__init__(text)
        self.name = name
        self.reason = reason
        self.msg = msg
        self.reply = reply or {}


class RegisterDecision(NamedTuple):
    accepted: bool
    reason: str | None = None


class LogDecision(NamedTuple):
    """``access`` (1 open / 0 deny, server-validation mode only) and ``message`` go into the ``sendlog`` reply."""

    access: int | None = None
    message: str | None = None


class QrDecision(NamedTuple):
    access: int | None = None
    enrollid: int | None = None
    username: str | None = None
    message: str | None = None


class TerminalHandler(Protocol):
    """What the server asks of the hub side (implemented by ``manager.TerminalManager``).

    Every method but ``on_registered`` is awaited inline in the connection's read loop, so it must not await a
    command on the same session (its reply could not be read): start a task, or do it in ``on_registered``.
    """

    async def on_register(self, session: TerminalSession, devinfo: dict[str, Any]) -> RegisterDecision:
        """Accept or refuse a ``reg``; may set ``session.time_zone`` (the reply's ``cloudtime``) and ``context``."""

    async def on_logs(
        self, session: TerminalSession, records: list[dict[str, Any]], *, count: int | None, logindex: int | None
    ) -> LogDecision:
        """Store a ``sendlog`` batch; return only once the records are committed (the ack follows at once)."""

    async def on_user(self, session: TerminalSession, user: dict[str, Any]) -> None:
        """A ``senduser`` (keypad enrollment): stored before returning."""

    async def on_qrcode(self, session: TerminalSession, text: str) -> QrDecision: ...

    async def on_pin(self, session: TerminalSession, pin: str, time: str | None) -> QrDecision: ...

    async def on_registered(self, session: TerminalSession) -> None:
        """Runs as a task after the ``reg`` reply went out: clock sync, ``getnewlog`` drain, queued commands."""

    async def on_seen(self, session: TerminalSession) -> None:
        """The terminal is alive (a message, or pongs while idle): keep it cheap."""

    async def on_disconnected(self, session: TerminalSession, reason: str) -> None:
        """A registered session ended. ``reason`` is ``closed``, ``timeout``, ``stopped`` or ``replaced``; on
        ``replaced`` the serial already has a newer session (``server.session(sn)``): the terminal is still online.
        """


class Connection(Protocol):
    """The part of ``websockets``' connection a session uses (tests may pass a fake)."""

    async def send(self, message: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class TerminalSession:
    """One socket of one terminal. ``context`` is free for the handler (device id, tenant, ...)."""

    __slots__ = (
        "_locks",
        "_logged",
        "_pending",
        "command_timeout",
        "connected_at",
        "connection",
        "context",
        "devinfo",
        "ended",
        "last_seen",
        "registered",
        "remote",
        "sn",
        "time_zone",
    )

    def __init__(
        self,
        connection: Connection,
        remote: str,
        *,
        command_timeout: float = COMMAND_TIMEOUT,
        time_zone: ZoneInfo = UTC,
    ) -> None:
        self.connection = connection
        self.remote = remote
        self.sn: str | None = None
        self.devinfo: dict[str, Any] = {}
        self.connected_at = self.last_seen = time.time()
        self.registered = False
        self.ended: str | None = None  # why the session ended; None while it is live
        self.command_timeout = command_timeout
        self.time_zone = time_zone
        self.context: Any = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] | None = None
        self._locks: dict[str, asyncio.Lock] | None = None
        self._logged: set[str] | None = None

    def __repr__(self) -> str:
        return f"<TerminalSession {self.sn or '?'} from {self.remote}{' ended' if self.ended else ''}>"

    @property
    def model(self) -> str | None:
        value = self.devinfo.get("modelname")
        return str(value) if value is not None else None

    @property
    def firmware(self) -> str | None:
        value = self.devinfo.get("firmware")
        return str(value) if value is not None else None

    async def send(self, payload: dict[str, Any]) -> None:
        """Send one frame; raises SessionClosed when the session has ended."""
        if self.ended is not None:
            raise SessionClosed(self.sn, self.ended)
        try:
            await self.connection.send(dumps(payload))
        except Exception as err:  # websockets.ConnectionClosed, OSError: the socket is gone
            raise SessionClosed(self.sn, self.ended or "connection lost") from err

    async def command(self, name: str, /, *, reply_timeout: float | None = None, **fields: Any) -> dict[str, Any]:
        """Send ``{"cmd": name, **fields}`` and return the reply (its whole body). One outstanding per name.

        ``name`` is positional-only, so a ``name`` field (setuserinfo) passes through; ``reply_timeout`` overrides
        the session's command timeout (not ``timeout``: ``keypad`` has a ``timeout`` field).

        Raises CommandTimeout, CommandFailed (``result: false``) or SessionClosed. ``reboot`` returns ``{}`` at
        once: the terminal restarts without replying.
        """
        if self._locks is None:
            self._locks = {}
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        async with lock:
            if name in NO_REPLY_COMMANDS:
                await self.send(command(name, **fields))
                return {}
            if self._pending is None:
                self._pending = {}
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending[name] = future
            try:
                await self.send(command(name, **fields))
                limit = self.command_timeout if reply_timeout is None else reply_timeout
                try:
                    reply = await asyncio.wait_for(future, limit)
                except TimeoutError:
                    raise CommandTimeout(name, limit) from None
            finally:
                if self._pending.get(name) is future:
                    del self._pending[name]
        if reply.get("result") is False:
            msg = reply.get("msg")
            raise CommandFailed(name, reply.get("reason"), str(msg) if msg is not None else None, reply)
        return reply

    async def paged(
        self, name: str, /, *, page_cap: int = PAGE_CAP, reply_timeout: float | None = None, **fields: Any
    ) -> list[dict[str, Any]]:
        """Every record of a paged command (``stn`` true, then false), stopping by the reference's rule.

        Stops on ``result: false`` after the first page, an empty ``record``, ``count == 0``, ``to + 1 >= count``
        or ``page_cap`` pages; a failing first page raises CommandFailed.
        """
        records: list[dict[str, Any]] = []
        for page in range(page_cap):
            try:
                reply = await self.command(name, reply_timeout=reply_timeout, stn=page == 0, **fields)
            except CommandFailed:
                if page == 0:
                    raise
                break
            batch = reply.get("record")
            if not isinstance(batch, list) or not batch:
                break
            records.extend(item for item in batch if isinstance(item, dict))
            count, to = as_int(reply.get("count")), as_int(reply.get("to"))
            if count is None or count == 0 or (to is not None and to + 1 >= count):
                break
        else:
            _LOGGER.warning("%s: %s stopped after %d pages (page cap)", self.sn, name, page_cap)
        return records

    @asynccontextmanager
    async def device_disabled(self) -> AsyncIterator[TerminalSession]:
        """``disabledevice`` … ``enabledevice`` around bulk user operations, as the vendor demo does."""
        await self.command("disabledevice")
        try:
            yield self
        finally:
            if self.ended is None:
                try:
                    await self.command("enabledevice")
                except Tm20Error as err:
                    _LOGGER.warning("%s: enabledevice after a bulk operation failed: %s", self.sn, err)

    # ----------------------------------------------------------------------------------- used by the server

    def resolve(self, message: Message) -> bool:
        """Hand a reply to the command waiting for it; False when nothing waits for that name."""
        future = self._pending.get(message.name) if self._pending else None
        if future is None or future.done():
            return False
        future.set_result(message.body)
        return True

    def expects(self, name: str) -> bool:
        """Whether a command named ``name`` waits for its reply (to recognise ``cmd``-echo replies)."""
        return bool(self._pending) and name in self._pending  # type: ignore[operator]

    def end(self, reason: str) -> None:
        """Mark the session ended and fail every waiting command with SessionClosed."""
        if self.ended is None:
            self.ended = reason
        if self._pending:
            pending, self._pending = self._pending, {}
            for future in pending.values():
                if not future.done():
                    future.set_exception(SessionClosed(self.sn, reason))

    def first_time(self, kind: str) -> bool:
        """True the first time ``kind`` is seen on this connection: bad input is logged once, not per frame."""
        if self._logged is None:
            self._logged = set()
        if kind in self._logged:
            return False
        self._logged.add(kind)
        return True
