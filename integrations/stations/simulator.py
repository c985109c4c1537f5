"""A station agent in software: the real protocol over a real WebSocket (aiohttp's client).

It does what the agent on a public computer does: connects with its station token, heartbeats every
``heartbeat_interval`` seconds (the hub's ``hello`` says how often) with its remaining time and code, sends a code
a visitor typed (``validate``), counts the session down on its own clock and obeys ``session``, ``add_time`` and
``close_session``. Timer messages carry the hub's absolute remaining time, so the agent sets its deadline from
them instead of adding to it: a replayed ``add_time`` cannot give a visitor time twice. It reconnects when the hub
goes away, as agents do, keeping its session so the hub can correct or close it.

Used by the tests, ``gatehouse simulate station`` and the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from . import protocol

__all__ = ["AgentRefused", "StationAgent", "agent_url", "run_agents"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_INTERVAL = 10.0


class AgentRefused(Exception):
    """The hub refused the upgrade (unknown station, wrong token): ``status`` and the hub's JSON error message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def agent_url(hub_url: str, address: str) -> str:
    """``http://127.0.0.1:8123`` + ``10.0.0.5`` -> ``ws://127.0.0.1:8123/ws/station/10.0.0.5``."""
    base = hub_url.rstrip("/")
    if base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    elif base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    return f"{base}/ws/station/{quote(address, safe='')}"


class StationAgent:
    """One simulated station. ``await start()`` connects and waits for ``hello``; ``await close()`` stops it.

    ``auto_heartbeat=False`` leaves heartbeats to the caller (``await heartbeat()``), which tests use to know
    exactly which message the hub is answering. ``on_heartbeat`` is called with the address just before each
    heartbeat is written (the benchmark stamps its send times there).
    """

    def __init__(
        self,
        hub_url: str,
        address: str,
        token: str,
        *,
        http: aiohttp.ClientSession | None = None,
        auto_heartbeat: bool = True,
        heartbeat_interval: float | None = None,
        reconnect: bool = True,
        reconnect_delay: float = 1.0,
        ack: bool = True,
        on_heartbeat: Callable[[str], None] | None = None,
        on_message: Callable[[StationAgent, dict[str, Any]], None] | None = None,
        keep_messages: int = 1000,
    ) -> None:
        self.url = agent_url(hub_url, address)
        self.address = address
        self.token = token
        self.auto_heartbeat = auto_heartbeat
        self.heartbeat_interval = heartbeat_interval
        self.reconnect = reconnect
        self.reconnect_delay = reconnect_delay
        self.ack = ack
        self.on_heartbeat = on_heartbeat
        self.on_message = on_message
        self.hello: dict[str, Any] | None = None
        self.session_id: str | None = None
        self.code: str | None = None
        self.ends_at: str | None = None  # the hub's, as last told
        self.deadline: float | None = None  # time.monotonic() at which the local countdown reaches 0
        self.last_warning: dict[str, Any] | None = None
        self.errors: list[dict[str, Any]] = []
        self.received: deque[dict[str, Any]] = deque(maxlen=keep_messages)
        self.connections = 0  # successful upgrades so far
        self.refused: AgentRefused | None = None
        self.connected = asyncio.Event()
        self._own_http = http is None
        self._http = http
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._inbox: deque[dict[str, Any]] = deque()
        self._arrived = asyncio.Condition()
        self._runner: asyncio.Task[None] | None = None
        self._closing = False

    # ------------------------------------------------------------------------------------------- state

    @property
    def remaining(self) -> int | None:
        """Seconds left on the local countdown (None when idle)."""
        if self.deadline is None:
            return None
        return max(0, round(self.deadline - time.monotonic()))

    @property
    def locked(self) -> bool:
        """A station without a running session shows its lock screen."""
        remaining = self.remaining
        return remaining is None or remaining <= 0

    # ------------------------------------------------------------------------------------------- life

    async def start(self, timeout: float = 10.0) -> None:
        """Connect (retrying while the hub is not there yet) and wait for the hub's ``hello``.

        Raises ``AgentRefused`` at once when the hub refuses this station, ``TimeoutError`` after ``timeout``.
        """
        if self._runner is None or self._runner.done():  # first start, or again after a stop without reconnect
            self._closing = False
            self.refused = None
            self._runner = asyncio.get_running_loop().create_task(self._run(), name=f"station agent {self.address}")
        waiter = asyncio.ensure_future(self.connected.wait())
        try:
            done, _ = await asyncio.wait({waiter, self._runner}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if self.refused is not None:
            raise self.refused
        if not self.connected.is_set():
            if self._runner in done:
                self._runner.result()  # re-raise what stopped it
            raise TimeoutError(f"station agent {self.address} not connected within {timeout} s")

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    async def disconnect(self) -> None:
        """Drop the connection as a crashed or unplugged station would (it reconnects if ``reconnect``)."""
        if self._ws is not None:
            await self._ws.close()

    async def _run(self) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        while not self._closing:
            try:
                await self._connect_once(self._http)
            except AgentRefused as refused:
                self.refused = refused
                _LOGGER.warning("Station agent %s refused by the hub: %s", self.address, refused)
                return
            except (aiohttp.ClientError, OSError) as error:
                _LOGGER.debug("Station agent %s cannot reach the hub: %s", self.address, error)
            self.connected.clear()
            if not self.reconnect or self._closing:
                return
            await asyncio.sleep(self.reconnect_delay)

    async def _connect_once(self, http: aiohttp.ClientSession) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            ws = await http.ws_connect(self.url, headers=headers, heartbeat=None, autoping=True)
        except aiohttp.WSServerHandshakeError as error:
            if error.status in (401, 403, 404):
                raise AgentRefused(error.status, await self._refusal(http)) from None
            raise
        self._ws = ws
        self.hello = None  # this connection's hello is what marks it connected
        self.connections += 1
        beating: asyncio.Task[None] | None = None
        try:
            async for frame in ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                await self._receive(frame.data)
                if beating is None and self.hello is not None:
                    self.connected.set()
                    if self.auto_heartbeat:
                        beating = asyncio.get_running_loop().create_task(self._heartbeats())
        finally:
            self._ws = None
            if beating is not None:
                beating.cancel()

    async def _refusal(self, http: aiohttp.ClientSession) -> str:
        """The hub's JSON error for a refused upgrade (the handshake error does not carry the body)."""
        plain = self.url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
        try:
            async with http.get(plain, headers={"Authorization": f"Bearer {self.token}"}) as response:
                body = await response.json(content_type=None)
            return str(body["error"]["message"])
        except (aiohttp.ClientError, ValueError, KeyError, TypeError):
            return "refused"

    async def _heartbeats(self) -> None:
        while True:
            await self.heartbeat()
            await asyncio.sleep(self.interval)

    @property
    def interval(self) -> float:
        if self.heartbeat_interval is not None:
            return self.heartbeat_interval
        if self.hello is not None:
            return float(self.hello.get("heartbeat_interval") or DEFAULT_HEARTBEAT_INTERVAL)
        return DEFAULT_HEARTBEAT_INTERVAL

    # ------------------------------------------------------------------------------------------- sending

    async def send_json(self, message: Any) -> None:
        await self.send_text(json.dumps(message))

    async def send_text(self, text: str) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionError(f"station agent {self.address} is not connected")
        await ws.send_str(text)

    async def heartbeat(self) -> None:
        """Tell the hub we are alive, with what this station believes: remaining time and code."""
        if self.on_heartbeat is not None:
            self.on_heartbeat(self.address)
        remaining = self.remaining
        await self.send_json({"type": "heartbeat", "remaining": remaining, "code": self.code if remaining else None})

    async def validate(self, code: str) -> None:
        """A visitor typed ``code`` on this station's lock screen."""
        await self.send_json({"type": "validate", "code": code})

    # ------------------------------------------------------------------------------------------- receiving

    async def next_message(self, kind: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """The oldest message not yet taken (of ``kind``, when given), waiting up to ``timeout`` for it."""
        async with asyncio.timeout(timeout):
            async with self._arrived:
                while True:
                    for message in self._inbox:
                        if kind is None or message.get("type") == kind:
                            self._inbox.remove(message)
                            return message
                    await self._arrived.wait()

    def forget_messages(self) -> None:
        """Drop the messages not taken yet (before a step whose answer the test wants to see alone)."""
        self._inbox.clear()

    async def _receive(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            _LOGGER.warning("Station agent %s got a frame that is not JSON: %.80s", self.address, text)
            return
        if not isinstance(message, dict):
            return
        self._apply(message)
        self.received.append(message)
        if self.on_message is not None:
            self.on_message(self, message)
        async with self._arrived:
            self._inbox.append(message)
            self._arrived.notify_all()
        if self.ack and isinstance(message.get("id"), str) and self._ws is not None and not self._ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._ws.send_str(protocol.dumps({"type": "ack", "id": message["id"]}))

    def _apply(self, message: dict[str, Any]) -> None:
        kind = message.get("type", message.get("action"))  # the seed's hub said "action"
        if kind == "hello":
            self.hello = message
            session = message.get("session")
            if isinstance(session, dict):
                self._set_session(session)
            elif self.session_id is not None:
                _LOGGER.debug("Station agent %s: the hub knows no session here; waiting for its verdict", self.address)
        elif kind == "session":
            self._set_session(message)
        elif kind == "add_time":
            if self.session_id is None or message.get("session_id") in (None, self.session_id):
                self._set_timer(message)
        elif kind == "close_session":
            if message.get("session_id") in (None, self.session_id):
                self.session_id = self.code = self.ends_at = None
                self.deadline = None
        elif kind == "warn":
            self.last_warning = message
        elif kind == "error":
            self.errors.append(message)

    def _set_session(self, message: Mapping[str, Any]) -> None:
        self.session_id = message.get("session_id") or message.get("id")
        self.code = message.get("code") or self.code
        self._set_timer(message)

    def _set_timer(self, message: Mapping[str, Any]) -> None:
        """Absolute state from the hub: the deadline is set from ``remaining``, never added to."""
        remaining = message.get("remaining")
        if isinstance(remaining, int | float) and not isinstance(remaining, bool):
            self.deadline = time.monotonic() + float(remaining)
        self.ends_at = message.get("ends_at") or self.ends_at


async def run_agents(
    hub_url: str,
    tokens: Mapping[str, str],
    *,
    stop: asyncio.Event,
    code: str | None = None,
    heartbeat_interval: float | None = None,
    on_message: Callable[[StationAgent, dict[str, Any]], None] | None = None,
    connect_rate: float = 200.0,
) -> list[StationAgent]:
    """Run one agent per ``address -> token`` until ``stop`` is set; ``code`` is typed on the first station."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        agents = [
            StationAgent(
                hub_url, address, token, http=http, heartbeat_interval=heartbeat_interval, on_message=on_message
            )
            for address, token in tokens.items()
        ]

        async def start(index: int, agent: StationAgent) -> None:
            await asyncio.sleep(index / connect_rate)
            try:
                await agent.start(timeout=60)
            except (AgentRefused, TimeoutError) as error:
                _LOGGER.error("Station agent %s did not connect: %s", agent.address, error)

        await asyncio.gather(*(start(index, agent) for index, agent in enumerate(agents)))
        if code is not None and agents and agents[0].connected.is_set():
            await agents[0].validate(code)
        if any(agent.connections for agent in agents):  # nobody got in: nothing to wait for
            await stop.wait()
        await asyncio.gather(*(agent.close() for agent in agents), return_exceptions=True)
    return agents
