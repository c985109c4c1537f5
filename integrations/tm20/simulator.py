"""A TM20 terminal in software: speaks the real protocol over a real socket (the ``websockets`` client).

It registers, pushes ``sendlog``/``senduser``/``sendqrcode``/``sendpin`` and answers every server command from an
in-memory model (users and credentials by backupnum, logs with their new/read flag, clock, settings, locks, door
openings), with paging of 40 users / 50 logs per page. Firmware quirks are switched on by name:

- ``flat_reg``: ``devinfo`` fields flattened to the top level of ``reg``;
- ``cmd_echo``: replies carry ``cmd`` instead of ``ret``;
- ``retransmit``: an unacknowledged ``sendlog`` batch is sent again after ``retransmit_after`` seconds.

Used by the tests, ``gatehouse simulate tm20`` and the benchmark. It reconnects (and registers again) when the
server goes away, as terminals do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from .const import MAX_FRAME
from .protocol import (
    BACKUPNUM_ALL_FINGERPRINTS,
    BACKUPNUM_EVERYTHING,
    TIME_FORMAT,
    as_int,
    dumps,
    parse_message,
)

_LOGGER = logging.getLogger(__name__)

QUIRKS = frozenset({"flat_reg", "cmd_echo", "retransmit"})
USERS_PER_PAGE = 40
LOGS_PER_PAGE = 50


@dataclass(slots=True)
class SimUser:
    enrollid: int
    name: str = ""
    admin: int = 0
    enabled: bool = True
    credentials: dict[int, Any] = field(default_factory=dict)  # backupnum -> record
    lock: dict[str, Any] | None = None
    profile: str | None = None


@dataclass(slots=True)
class SimLog:
    record: dict[str, Any]
    new: bool = True


class TerminalSimulator:
    """One simulated terminal. ``await start()`` connects and registers; ``await close()`` stops it."""

    def __init__(
        self,
        url: str,
        sn: str,
        *,
        quirks: Iterable[str] = frozenset(),
        devinfo: dict[str, Any] | None = None,
        users: Iterable[SimUser] = (),
        logs: Iterable[dict[str, Any]] = (),
        retransmit_after: float = 20.0,
        reply_timeout: float = 30.0,
        reconnect: bool = True,
        reconnect_delay: float = 1.0,
    ) -> None:
        unknown = set(quirks) - QUIRKS
        if unknown:
            raise ValueError(f"unknown quirks: {', '.join(sorted(unknown))} (known: {', '.join(sorted(QUIRKS))})")
        self.url = url
        self.sn = sn
        self.quirks = frozenset(quirks)
        self.devinfo: dict[str, Any] = devinfo or {
            "modelname": "tfs30",
            "usersize": 3000,
            "fpsize": 3000,
            "cardsize": 3000,
            "pwdsize": 3000,
            "logsize": 100000,
            "firmware": "th600w v6.1",
            "fpalgo": "thbio3.0",
            "mac": "00-01-A9-00-00-01",
        }
        self.users: dict[int, SimUser] = {user.enrollid: user for user in users}
        self.logs: list[SimLog] = [SimLog(dict(record), True) for record in logs]
        self.retransmit_after = retransmit_after
        self.reply_timeout = reply_timeout
        self.reconnect = reconnect
        self.reconnect_delay = reconnect_delay
        self.settings: dict[str, Any] = {"deviceid": 1, "language": 0, "volume": 6, "verifymode": 0}
        self.devlock: dict[str, Any] = {"opendelay": 5, "doorsensor": 0}
        self.holidays: list[dict[str, Any]] = []
        self.door_openings = 0
        self.last_doornum: int | None = None
        self.disabled = False
        self.keypad = False
        self.clock_offset = 0.0  # seconds added to the host clock (settime moves it)
        self.received: list[dict[str, Any]] = []  # every server command, for tests
        self.mute: set[str] = set()  # commands received but never answered (a hung firmware), for tests
        self.reg_reply: dict[str, Any] | None = None
        self.registrations = 0
        self.logindex = 0
        self.unknown_commands = 0
        self.registered = asyncio.Event()
        self.websocket: ClientConnection | None = None
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._cursors: dict[str, int] = {}
        self._runner: asyncio.Task[None] | None = None
        self._closing = False
        self._connected_once: asyncio.Future[None] | None = None

    # ---------------------------------------------------------------------------------------- life cycle

    async def start(self, timeout: float = 10.0) -> dict[str, Any]:
        """Connect, register and return the ``reg`` reply (it may be a refusal: ``result`` false)."""
        self._closing = False
        self._connected_once = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._run(), name=f"tm20-sim-{self.sn}")
        await asyncio.wait_for(asyncio.shield(self._connected_once), timeout)
        assert self.reg_reply is not None
        return self.reg_reply

    async def close(self) -> None:
        self._closing = True
        if self.websocket is not None:
            with contextlib.suppress(Exception):
                await self.websocket.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
            self._runner = None

    async def drop(self) -> None:
        """Cut the TCP connection without a closing handshake (power loss, cable pulled); it then reconnects."""
        if self.websocket is not None:
            self.websocket.transport.abort()

    async def __aenter__(self) -> TerminalSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _run(self) -> None:
        while not self._closing:
            try:
                async with connect(self.url, compression=None, max_size=MAX_FRAME, ping_interval=None) as websocket:
                    self.websocket = websocket
                    reader = asyncio.create_task(self._read(websocket))
                    try:
                        reply = await self._request("reg", self._reg_message(), timeout=self.reply_timeout)
                        self.reg_reply = reply
                        self.registrations += 1
                        if reply.get("result") is True:
                            self._set_clock(reply.get("cloudtime"))
                            self.registered.set()
                        if self._connected_once is not None and not self._connected_once.done():
                            self._connected_once.set_result(None)
                        await reader
                    finally:
                        reader.cancel()
                        self.registered.clear()
                        self._fail_waiters()
            except (OSError, WebSocketException, TimeoutError) as err:
                if self._connected_once is not None and not self._connected_once.done() and not self.reconnect:
                    self._connected_once.set_exception(err)
                    return
            self.websocket = None
            if not self.reconnect or self._closing:
                return
            await asyncio.sleep(self.reconnect_delay * (0.5 + random.random()))

    def _reg_message(self) -> dict[str, Any]:
        if "flat_reg" in self.quirks:
            return {"cmd": "reg", "sn": self.sn, **self._devinfo_now()}
        return {"cmd": "reg", "sn": self.sn, "cpusn": f"cpu-{self.sn}", "devinfo": self._devinfo_now()}

    def _devinfo_now(self) -> dict[str, Any]:
        info = dict(self.devinfo)
        credentials = [slot for user in self.users.values() for slot in user.credentials]
        info.update(
            useduser=len(self.users),
            usedfp=sum(1 for slot in credentials if 0 <= slot <= 9),
            usedcard=sum(1 for slot in credentials if slot == 11),
            usedpwd=sum(1 for slot in credentials if slot == 10),
            usedlog=len(self.logs),
            usednewlog=sum(1 for log in self.logs if log.new),
            time=self.now(),
        )
        return info

    def _fail_waiters(self) -> None:
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("connection lost"))
        self._waiters.clear()

    # --------------------------------------------------------------------------------------- clock, model

    def now(self) -> str:
        """The terminal's clock as it would print it."""
        return (datetime.now() + timedelta(seconds=self.clock_offset)).strftime(TIME_FORMAT)

    def _set_clock(self, text: Any) -> None:
        if isinstance(text, str):
            with contextlib.suppress(ValueError):
                self.clock_offset = (datetime.strptime(text, TIME_FORMAT) - datetime.now()).total_seconds()

    def add_user(self, enrollid: int, name: str = "", *, admin: int = 0, **credentials: Any) -> SimUser:
        """A user as if enrolled on the keypad; ``credentials`` by slot name: ``card=123``, ``fp0="..."``."""
        user = self.users.setdefault(enrollid, SimUser(enrollid, name, admin))
        slots = {"password": 10, "card": 11, "photo": 50}
        for key, value in credentials.items():
            slot = slots.get(key, int(key[2:]) if key.startswith(("fp", "fa")) else None)
            if slot is None:
                raise ValueError(f"unknown credential {key}")
            user.credentials[slot] = value
        return user

    def make_logs(
        self, count: int, *, enrollid: int | None = None, mode: int = 1, inout: int = 0, event: int = 0
    ) -> list[dict[str, Any]]:
        """``count`` distinct log records stamped now (enrollids differ, so none de-duplicates another)."""
        now = self.now()
        records = []
        for _ in range(count):
            self.logindex += 1
            who = enrollid if enrollid is not None else 1 + self.logindex % 100_000
            records.append({"enrollid": who, "time": now, "mode": mode, "inout": inout, "event": event})
        return records

    # ------------------------------------------------------------------------------------ terminal → server

    async def send_logs(self, records: Sequence[dict[str, Any]], *, logindex: int | None = None) -> dict[str, Any]:
        """Push one ``sendlog`` batch and return the ack; kept as new (unread) until the ack says result true.

        With the ``retransmit`` quirk the same batch (same ``logindex``) is sent again after ``retransmit_after``
        seconds without an ack, reconnecting first if the connection dropped, as firmware does.
        """
        entries = [SimLog(dict(record), True) for record in records]
        self.logs.extend(entries)
        index = self.logindex if logindex is None else logindex
        message = {"cmd": "sendlog", "sn": self.sn, "count": len(records), "logindex": index, "record": list(records)}
        while True:
            try:
                await self._wait_registered()
                reply = await self._request("sendlog", message, timeout=self.retransmit_after)
            except (TimeoutError, ConnectionError, ConnectionClosed):
                if "retransmit" not in self.quirks or self._closing:
                    raise
                continue
            if reply.get("result") is True:
                for entry in entries:
                    entry.new = False
            return reply

    async def send_user(
        self, enrollid: int, backupnum: int, record: Any, *, name: str = "", admin: int = 0
    ) -> dict[str, Any]:
        self.add_user(enrollid, name, admin=admin).credentials[backupnum] = record
        message = {
            "cmd": "senduser",
            "sn": self.sn,
            "enrollid": enrollid,
            "name": name,
            "backupnum": backupnum,
            "admin": admin,
            "record": record,
        }
        return await self._request("senduser", message)

    async def send_qrcode(self, text: str) -> dict[str, Any]:
        return await self._request("sendqrcode", {"cmd": "sendqrcode", "sn": self.sn, "record": text})

    async def send_pin(self, pin: str) -> dict[str, Any]:
        return await self._request("sendpin", {"cmd": "sendpin", "sn": self.sn, "pin": pin, "time": self.now()})

    async def send_raw(self, frame: str | bytes) -> None:
        """Send any frame as it is (bad-input tests)."""
        assert self.websocket is not None
        await self.websocket.send(frame)

    async def request(self, name: str, message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send a terminal request by hand and wait for its ``ret`` (tests of odd messages)."""
        return await self._request(name, message, timeout=timeout)

    async def _wait_registered(self) -> None:
        await asyncio.wait_for(self.registered.wait(), self.reply_timeout)

    async def _request(self, name: str, message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        async with lock:
            websocket = self.websocket
            if websocket is None:
                raise ConnectionError("not connected")
            waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiters[name] = waiter
            try:
                await websocket.send(dumps(message))
                return await asyncio.wait_for(waiter, self.reply_timeout if timeout is None else timeout)
            finally:
                if self._waiters.get(name) is waiter:
                    del self._waiters[name]

    # ------------------------------------------------------------------------------------ server → terminal

    async def _read(self, websocket: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in websocket:
                try:
                    message = parse_message(frame)
                except ValueError:
                    _LOGGER.warning("simulator %s: unreadable frame %.200r", self.sn, frame)
                    continue
                if message.kind == "reply":
                    waiter = self._waiters.get(message.name)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(message.body)
                    continue
                self.received.append(message.body)
                if message.name in self.mute:
                    continue
                reply = self.answer(message.name, message.body)
                if reply is None:  # reboot: no reply, the terminal restarts
                    await websocket.close()
                    return
                if "cmd_echo" in self.quirks:
                    reply = {"cmd": reply.pop("ret"), **reply}
                await websocket.send(dumps(reply))

    def answer(self, name: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The reply this terminal gives to a server command (None: no reply)."""
        if name == "reboot":
            return None
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            self.unknown_commands += 1
            return {"ret": name, "sn": self.sn, "result": False, "reason": 1, "msg": "can not find this command"}
        try:
            data = handler(body)
        except (KeyError, TypeError, ValueError) as err:
            return {"ret": name, "sn": self.sn, "result": False, "reason": 1, "msg": str(err)}
        if data is not None and data.get("result") is False:
            return {"ret": name, "sn": self.sn, **data}
        return {"ret": name, "sn": self.sn, "result": True, **(data or {})}

    def _page(self, name: str, body: dict[str, Any], items: list[Any], size: int) -> tuple[list[Any], dict[str, Any]]:
        start = 0 if body.get("stn", True) is not False else self._cursors.get(name, 0)
        page = items[start : start + size]
        self._cursors[name] = start + len(page)
        if not page:
            return page, {"count": 0, "from": 0, "to": 0, "record": []}
        return page, {"count": len(items), "from": start, "to": start + len(page) - 1}

    def _user(self, body: dict[str, Any]) -> SimUser:
        enrollid = as_int(body.get("enrollid"))
        if enrollid is None or enrollid not in self.users:
            raise KeyError("can not find the user")
        return self.users[enrollid]

    def _cmd_getuserlist(self, body: dict[str, Any]) -> dict[str, Any]:
        slots = [
            {"enrollid": user.enrollid, "admin": user.admin, "backupnum": slot}
            for user in sorted(self.users.values(), key=lambda u: u.enrollid)
            for slot in sorted(user.credentials)
        ]
        page, meta = self._page("getuserlist", body, slots, USERS_PER_PAGE)
        return {**meta, "record": page}

    def _cmd_getuserinfo(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            user = self._user(body)
        except KeyError:
            return {"result": False, "reason": 1, "msg": "can not find the user"}
        backupnum = as_int(body.get("backupnum"))
        if backupnum not in user.credentials:
            return {"result": False, "reason": 1, "msg": "have no data"}
        return {
            "enrollid": user.enrollid,
            "name": user.name,
            "backupnum": backupnum,
            "admin": user.admin,
            "record": user.credentials[backupnum],
        }

    def _cmd_setuserinfo(self, body: dict[str, Any]) -> None:
        enrollid, backupnum = as_int(body.get("enrollid")), as_int(body.get("backupnum"))
        if enrollid is None or backupnum is None:
            raise ValueError("enrollid and backupnum are required")
        user = self.users.setdefault(enrollid, SimUser(enrollid))
        if "name" in body:
            user.name = str(body["name"])
        user.admin = as_int(body.get("admin", user.admin)) or 0
        user.credentials[backupnum] = body.get("record")

    def _cmd_deleteuser(self, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            user = self._user(body)
        except KeyError:
            return {"result": False, "reason": 1, "msg": "can not find the user"}
        backupnum = as_int(body.get("backupnum"))
        if backupnum == BACKUPNUM_EVERYTHING:
            del self.users[user.enrollid]
        elif backupnum == BACKUPNUM_ALL_FINGERPRINTS:
            user.credentials = {slot: rec for slot, rec in user.credentials.items() if not 0 <= slot <= 9}
        else:
            user.credentials.pop(backupnum or 0, None)
        return None

    def _cmd_getusername(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"record": self._user(body).name}

    def _cmd_setusername(self, body: dict[str, Any]) -> None:
        for item in body.get("record") or []:
            enrollid = as_int(item.get("enrollid"))
            if enrollid is not None:
                self.users.setdefault(enrollid, SimUser(enrollid)).name = str(item.get("name", ""))

    def _cmd_enableuser(self, body: dict[str, Any]) -> None:
        self._user(body).enabled = as_int(body.get("enflag")) == 1

    def _cmd_cleanuser(self, body: dict[str, Any]) -> None:
        self.users.clear()

    def _logs_page(self, name: str, body: dict[str, Any], only_new: bool) -> dict[str, Any]:
        if only_new:
            items = [log for log in self.logs if log.new]
            if body.get("stn", True) is not False:
                self._cursors[name] = 0
            page = items[:LOGS_PER_PAGE]  # reading marks them read: the next page starts at the first new one
            start = self._cursors.get(name, 0)
            for log in page:
                log.new = False
            self._cursors[name] = start + len(page)
            if not page:
                return {"count": 0, "from": 0, "to": 0, "record": []}
            return {
                "count": start + len(items),
                "from": start,
                "to": start + len(page) - 1,
                "record": [log.record for log in page],
            }
        low, high = str(body.get("from") or ""), str(body.get("to") or "")
        selected = [
            log.record
            for log in self.logs
            if (not low or log.record["time"][: len(low)] >= low)
            and (not high or log.record["time"][: len(high)] <= high)
        ]
        page, meta = self._page(name, body, selected, LOGS_PER_PAGE)
        return {**meta, "record": page}

    def _cmd_getnewlog(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._logs_page("getnewlog", body, only_new=True)

    def _cmd_getalllog(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._logs_page("getalllog", body, only_new=False)

    def _cmd_cleanlog(self, body: dict[str, Any]) -> None:
        self.logs.clear()

    def _cmd_initsys(self, body: dict[str, Any]) -> None:
        self.users.clear()
        self.logs.clear()

    def _cmd_cleanadmin(self, body: dict[str, Any]) -> None:
        for user in self.users.values():
            user.admin = 0

    def _cmd_settime(self, body: dict[str, Any]) -> None:
        self._set_clock(body.get("cloudtime"))

    def _cmd_gettime(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"time": self.now()}

    def _cmd_setdevinfo(self, body: dict[str, Any]) -> None:
        self.settings.update({key: value for key, value in body.items() if key not in ("cmd", "sn")})

    def _cmd_getdevinfo(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.settings)

    def _cmd_opendoor(self, body: dict[str, Any]) -> None:
        self.door_openings += 1
        self.last_doornum = as_int(body.get("doornum"))
        self.logs.append(SimLog({"enrollid": 0, "time": self.now(), "mode": 0, "inout": 1, "event": 3}))

    def _cmd_setdevlock(self, body: dict[str, Any]) -> None:
        self.devlock.update({key: value for key, value in body.items() if key not in ("cmd", "sn")})

    def _cmd_getdevlock(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.devlock)

    def _cmd_getuserlock(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._user(body)
        return {"enrollid": user.enrollid, **(user.lock or {"weekzone": 1, "group": 0})}

    def _cmd_setuserlock(self, body: dict[str, Any]) -> None:
        for item in body.get("record") or []:
            enrollid = as_int(item.get("enrollid"))
            if enrollid in self.users:
                self.users[enrollid].lock = {key: value for key, value in item.items() if key != "enrollid"}

    def _cmd_deleteuserlock(self, body: dict[str, Any]) -> None:
        self._user(body).lock = None

    def _cmd_cleanuserlock(self, body: dict[str, Any]) -> None:
        for user in self.users.values():
            user.lock = None

    def _cmd_disabledevice(self, body: dict[str, Any]) -> None:
        self.disabled = True

    def _cmd_enabledevice(self, body: dict[str, Any]) -> None:
        self.disabled = False

    def _cmd_getholiday(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"holidays": list(self.holidays)}

    def _cmd_setholiday(self, body: dict[str, Any]) -> None:
        self.holidays = list(body.get("holidays") or [])

    def _cmd_setuserprofile(self, body: dict[str, Any]) -> None:
        enrollid = as_int(body.get("enrollid"))
        if enrollid == 0:
            self.settings["notice"] = body.get("profile")
        else:
            self._user(body).profile = str(body.get("profile", ""))

    def _cmd_getuserprofile(self, body: dict[str, Any]) -> dict[str, Any]:
        if as_int(body.get("enrollid")) == 0:
            return {"record": self.settings.get("notice") or ""}
        return {"record": self._user(body).profile or ""}

    def _cmd_adduser(self, body: dict[str, Any]) -> None:
        enrollid = as_int(body.get("enrollid"))
        if enrollid is None:
            raise ValueError("enrollid is required")
        self.users.setdefault(enrollid, SimUser(enrollid, str(body.get("name", ""))))

    def _cmd_keypad(self, body: dict[str, Any]) -> None:
        self.keypad = bool(body.get("on", body.get("keep", False)))


def _within(stamp: str, low: str, high: str) -> bool:
    """``getalllog``'s ``from``/``to`` window: dates or datetimes, compared on the prefix they give."""
    return (not low or stamp[: len(low)] >= low) and (not high or stamp[: len(high)] <= high)


# ---------------------------------------------------------------------------------------------- many at once


@dataclass(slots=True)
class SimulationStats:
    """What ``simulate_many`` did; ``latencies`` are ack round trips in seconds (filled when ``record``)."""

    connected: int = 0
    refused: int = 0
    batches: int = 0
    logs: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    record: bool = True


async def simulate_many(
    url: str,
    count: int,
    *,
    rate: float | None = None,
    batch: int = 10,
    prefix: str = "SIM",
    interval: float = 5.0,
    quirks: Iterable[str] = frozenset(),
    duration: float | None = None,
    connect_rate: float = 500.0,
    stats: SimulationStats | None = None,
    start_index: int = 0,
    stop: asyncio.Event | None = None,
) -> SimulationStats:
    """Run ``count`` terminals (``<prefix>000001``...) in this process, each pushing ``batch`` logs at a time.

    ``rate`` is the total in logs per second over all terminals (it sets each terminal's interval), else each
    terminal sends every ``interval`` seconds; batches are spread evenly in time. Stops after ``duration``
    seconds or when ``stop`` is set. Connections are opened at ``connect_rate`` per second.
    """
    stats = stats if stats is not None else SimulationStats()
    if rate is not None and rate > 0:
        interval = count * batch / rate
    simulators = [
        TerminalSimulator(url, f"{prefix}{start_index + number:06d}", quirks=quirks) for number in range(1, count + 1)
    ]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + duration if duration is not None else None

    async def one(index: int, simulator: TerminalSimulator) -> None:
        await asyncio.sleep(index / connect_rate)
        try:
            reply = await simulator.start()
        except (OSError, TimeoutError, WebSocketException):
            stats.failed += 1
            return
        if reply.get("result") is not True:
            stats.refused += 1
            return
        stats.connected += 1
        if batch <= 0 or interval <= 0:
            await stop.wait()
            return
        next_at = loop.time() + interval * random.random()
        while not stop.is_set() and (ends_at is None or next_at < ends_at):
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            sent = time.perf_counter()
            try:
                ack = await simulator.send_logs(simulator.make_logs(batch))
            except (TimeoutError, ConnectionError, ConnectionClosed):
                stats.failed += 1
            else:
                if ack.get("result") is True:
                    stats.batches += 1
                    stats.logs += batch
                    if stats.record:
                        stats.latencies.append(time.perf_counter() - sent)
                else:
                    stats.failed += 1
            next_at += interval

    tasks = [asyncio.create_task(one(index, simulator)) for index, simulator in enumerate(simulators)]
    try:
        if duration is not None:
            await asyncio.wait(tasks, timeout=duration + 5)
            stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(simulator.close() for simulator in simulators), return_exceptions=True)
    return stats
