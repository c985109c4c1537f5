"""The TM20 endpoint over real sockets: replies, command correlation, replacement, bad input, timeouts.

``RecordingHandler`` is this test's own implementation of the ``TerminalHandler`` boundary (the hub's is
``manager.TerminalManager``, tested in test_manager.py); terminals are ``TerminalSimulator``s or raw clients.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hub.testing import wait_for
from integrations.tm20.server import (
    CommandFailed,
    CommandTimeout,
    LogDecision,
    QrDecision,
    RegisterDecision,
    SessionClosed,
    TerminalSession,
    Tm20Server,
)
from integrations.tm20.simulator import SimUser, TerminalSimulator


class RecordingHandler:
    """Accepts every serial but ``refuse``; records every call; ``gate`` holds ``on_logs`` to prove ack-after-commit."""

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.calls: list[tuple[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self.users: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None
        self.fail_logs = False
        self.decision = LogDecision()
        self.registered = asyncio.Event()
        self.disconnected: list[tuple[TerminalSession, str]] = []
        self.seen = 0

    async def on_register(self, session: TerminalSession, devinfo: dict[str, Any]) -> RegisterDecision:
        self.calls.append(("register", (session.sn, devinfo)))
        if session.sn in self.refuse:
            return RegisterDecision(False, f"{session.sn} is not registered on this hub")
        return RegisterDecision(True)

    async def on_logs(
        self, session: TerminalSession, records: list[dict[str, Any]], *, count: int | None, logindex: int | None
    ) -> LogDecision:
        self.calls.append(("logs", (count, logindex)))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_logs:
            raise RuntimeError("database is down")
        self.logs.extend(records)
        return self.decision

    async def on_user(self, session: TerminalSession, user: dict[str, Any]) -> None:
        self.users.append(user)

    async def on_qrcode(self, session: TerminalSession, text: str) -> QrDecision:
        return QrDecision(access=1 if text == "OK" else 0, enrollid=7, username="Ana", message=f"qr {text}")

    async def on_pin(self, session: TerminalSession, pin: str, time: str | None) -> QrDecision:
        return QrDecision(access=int(pin == "1234"), message="pin")

    async def on_registered(self, session: TerminalSession) -> None:
        self.calls.append(("registered", session.sn))
        self.registered.set()

    async def on_seen(self, session: TerminalSession) -> None:
        self.seen += 1

    async def on_disconnected(self, session: TerminalSession, reason: str) -> None:
        self.disconnected.append((session, reason))


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
async def server(handler: RecordingHandler) -> AsyncIterator[Tm20Server]:
    server = Tm20Server(
        handler, host="127.0.0.1", port=0, time_zone="Europe/Paris", nosenduser=True, command_timeout=2.0
    )
    await server.start()
    yield server
    await server.stop()


def url(server: Tm20Server, path: str = "/ws/tm20/") -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


@pytest.fixture
async def terminal(server: Tm20Server) -> AsyncIterator[TerminalSimulator]:
    simulator = TerminalSimulator(url(server), "ZX0006827500", reconnect=False)
    simulator.add_user(1, "Ana", card=2352253, fp0="TUlJQ...")
    simulator.add_user(2, "Bruno", password=123456)
    await simulator.start()
    yield simulator
    await simulator.close()


async def raw_exchange(server: Tm20Server, frames: list[str | bytes], path: str = "/pub/chat") -> list[dict[str, Any]]:
    """Send frames on a bare connection and collect the replies that come back within a short wait."""
    replies = []
    async with connect(url(server, path), compression=None) as ws:
        for frame in frames:
            await ws.send(frame)
        try:
            while True:
                replies.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3)))
        except TimeoutError:
            pass
    return replies


# -------------------------------------------------------------------------------------------- registration


async def test_reg_nested_is_answered_with_cloudtime_and_nosenduser(
    server: Tm20Server, handler: RecordingHandler, terminal: TerminalSimulator
) -> None:
    reply = terminal.reg_reply
    assert reply is not None
    assert set(reply) == {"ret", "result", "cloudtime", "nosenduser"}
    assert reply["result"] is True and reply["nosenduser"] is True
    assert len(reply["cloudtime"]) == 19 and reply["cloudtime"][10] == " "
    session = server.session("ZX0006827500")
    assert session is not None and session.registered
    assert session.model == "tfs30" and session.firmware == "th600w v6.1"
    assert session.devinfo["useduser"] == 2 and session.devinfo["cpusn"] == "cpu-ZX0006827500"
    await asyncio.wait_for(handler.registered.wait(), 2)


async def test_reg_flattened_and_any_path(server: Tm20Server, handler: RecordingHandler) -> None:
    async with TerminalSimulator(url(server, "/pub/chat"), "AYTE16052143", quirks={"flat_reg"}) as simulator:
        assert simulator.reg_reply is not None and simulator.reg_reply["result"] is True
        session = server.session("AYTE16052143")
        assert session is not None and session.devinfo["modelname"] == "tfs30"
        assert "sn" not in session.devinfo and "cmd" not in session.devinfo


async def test_refused_terminal_gets_the_reason_and_nothing_else_is_accepted(
    server: Tm20Server, handler: RecordingHandler
) -> None:
    handler.refuse.add("BAD1")
    replies = await raw_exchange(
        server,
        [
            json.dumps({"cmd": "reg", "sn": "BAD1", "devinfo": {}}),
            json.dumps({"cmd": "sendlog", "sn": "BAD1", "count": 1, "logindex": 3, "record": []}),
        ],
    )
    assert replies[0]["result"] is False and replies[0]["reason"] == "BAD1 is not registered on this hub"
    assert replies[1] == {"ret": "sendlog", "result": False, "reason": 1}
    assert server.session("BAD1") is None and not handler.logs
    assert handler.disconnected == []  # never registered: nothing to report


# ---------------------------------------------------------------------------------------------- requests


async def test_sendlog_is_acked_only_after_the_handler_committed(
    handler: RecordingHandler, terminal: TerminalSimulator
) -> None:
    handler.gate = asyncio.Event()
    records = terminal.make_logs(10)
    pending = asyncio.create_task(terminal.send_logs(records, logindex=41))
    await wait_for(lambda: ("logs", (10, 41)) in handler.calls)
    await asyncio.sleep(0.1)
    assert not pending.done()  # not acknowledged while the commit is under way
    handler.gate.set()
    ack = await asyncio.wait_for(pending, 2)
    assert ack["result"] is True and ack["count"] == 10 and ack["logindex"] == 41 and "cloudtime" in ack
    assert "access" not in ack
    assert handler.logs == records


async def test_sendlog_carries_the_access_decision(handler: RecordingHandler, terminal: TerminalSimulator) -> None:
    handler.decision = LogDecision(access=0, message="Not allowed now")
    ack = await terminal.send_logs(terminal.make_logs(1, enrollid=9))
    assert (ack["access"], ack["message"]) == (0, "Not allowed now")


async def test_failed_commit_answers_result_false_and_the_connection_stays(
    server: Tm20Server, handler: RecordingHandler, terminal: TerminalSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    handler.fail_logs = True
    for _ in range(3):
        ack = await terminal.send_logs(terminal.make_logs(2), logindex=5)
        assert ack == {
            "ret": "sendlog",
            "result": False,
            "count": 2,
            "logindex": 5,
            "cloudtime": ack["cloudtime"],
            "reason": 1,
        }
    assert sum("on_logs failed" in record.getMessage() for record in caplog.records) == 1  # logged once
    handler.fail_logs = False
    assert (await terminal.send_logs(terminal.make_logs(2)))["result"] is True
    assert server.session(terminal.sn) is not None


async def test_bad_records_are_dropped_and_numeric_strings_coerced(
    handler: RecordingHandler, terminal: TerminalSimulator
) -> None:
    records: list[dict[str, Any]] = [
        {"enrollid": "12", "time": "2024-01-01 08:00:00", "mode": "1", "inout": 0, "event": 0},
        {"enrollid": None, "time": "2024-01-01 08:00:00"},
    ]
    ack = await terminal.send_logs(records)
    assert ack["result"] is True and ack["count"] == 2
    assert handler.logs == [{"enrollid": 12, "time": "2024-01-01 08:00:00", "mode": 1, "inout": 0, "event": 0}]


async def test_senduser_qrcode_pin_and_heartbeat(handler: RecordingHandler, terminal: TerminalSimulator) -> None:
    ack = await terminal.send_user(5, 11, 998877, name="Carla")
    assert ack["result"] is True and (ack["enrollid"], ack["backupnum"]) == (5, 11) and "cloudtime" in ack
    assert handler.users[0]["name"] == "Carla" and handler.users[0]["record"] == 998877
    qr = await terminal.send_qrcode("OK")
    assert {k: qr[k] for k in ("result", "access", "enrollid", "username", "message")} == {
        "result": True,
        "access": 1,
        "enrollid": 7,
        "username": "Ana",
        "message": "qr OK",
    }
    assert (await terminal.send_qrcode("nope"))["access"] == 0
    assert (await terminal.send_pin("1234"))["access"] == 1
    alive = await terminal.request("checklive", {"cmd": "checklive", "sn": terminal.sn})
    assert alive["result"] is True and "cloudtime" in alive
    assert handler.seen >= 5


# ---------------------------------------------------------------------------------------------- commands


async def test_commands_are_answered_and_matched(server: Tm20Server, terminal: TerminalSimulator) -> None:
    session = server.session(terminal.sn)
    assert session is not None
    info = await session.command("getuserinfo", enrollid=1, backupnum=11)
    assert info["record"] == 2352253 and info["name"] == "Ana"
    await session.command("setuserinfo", enrollid=3, name="Dé", backupnum=10, admin=0, record=4321)
    assert terminal.users[3].credentials == {10: 4321} and terminal.users[3].name == "Dé"
    await session.command("opendoor", doornum=2)
    assert terminal.door_openings == 1 and terminal.last_doornum == 2
    assert (await session.command("gettime"))["time"] == terminal.now()
    with pytest.raises(CommandFailed) as caught:
        await session.command("getuserinfo", enrollid=99, backupnum=0)
    assert caught.value.msg == "can not find the user"
    with pytest.raises(CommandFailed) as caught:
        await session.command("getalluserinfo")
    assert caught.value.msg == "can not find this command"


async def test_concurrent_commands_of_one_name_wait_their_turn(server: Tm20Server, terminal: TerminalSimulator) -> None:
    session = server.session(terminal.sn)
    assert session is not None
    first, second, name = await asyncio.gather(
        session.command("getuserinfo", enrollid=1, backupnum=11),
        session.command("getuserinfo", enrollid=2, backupnum=10),
        session.command("getusername", enrollid=2),
    )
    assert (first["record"], second["record"], name["record"]) == (2352253, 123456, "Bruno")


async def test_cmd_echo_replies_are_recognised(server: Tm20Server) -> None:
    async with TerminalSimulator(url(server), "AI07F123456", quirks={"cmd_echo"}) as simulator:
        simulator.add_user(4, "Echo", card=1)
        session = server.session("AI07F123456")
        assert session is not None
        assert (await session.command("getusername", enrollid=4))["record"] == "Echo"
        records = await session.paged("getuserlist")
        assert records == [{"enrollid": 4, "admin": 0, "backupnum": 11}]


async def test_paging_collects_every_page(server: Tm20Server, terminal: TerminalSimulator) -> None:
    for enrollid in range(10, 60):
        terminal.add_user(enrollid, f"user {enrollid}", card=enrollid)
    terminal.logs.clear()
    from integrations.tm20.simulator import SimLog

    terminal.logs.extend(SimLog(record, new=index % 2 == 0) for index, record in enumerate(terminal.make_logs(240)))
    session = server.session(terminal.sn)
    assert session is not None
    users = await session.paged("getuserlist")
    assert len(users) == 53  # 3 slots of users 1 and 2 + 50 cards: two pages of 40
    new = await session.paged("getnewlog")
    assert len(new) == 120 and all(log.new is False for log in terminal.logs)
    assert await session.paged("getnewlog") == []  # drained
    window: dict[str, Any] = {"from": "2000-01-01", "to": "2045-01-01"}
    everything = await session.paged("getalllog", **window)
    assert len(everything) == 240
    first_pages = [body for body in terminal.received if body["cmd"] == "getalllog"]
    assert [body["stn"] for body in first_pages] == [True, False, False, False, False]


async def test_timeout_reboot_and_bulk_wrapper(server: Tm20Server, terminal: TerminalSimulator) -> None:
    session = server.session(terminal.sn)
    assert session is not None
    async with session.device_disabled():
        assert terminal.disabled
    assert not terminal.disabled
    terminal.mute.add("getdevinfo")
    with pytest.raises(CommandTimeout):
        await session.command("getdevinfo", reply_timeout=0.2)
    assert await asyncio.wait_for(session.command("reboot"), 1) == {}
    await wait_for(lambda: server.session(terminal.sn) is None)  # the terminal restarts: it hangs up


async def test_a_second_connection_replaces_the_first(
    server: Tm20Server, handler: RecordingHandler, terminal: TerminalSimulator
) -> None:
    old = server.session(terminal.sn)
    assert old is not None
    terminal.mute.add("getdevinfo")
    pending = asyncio.create_task(old.command("getdevinfo", reply_timeout=10))
    await asyncio.sleep(0.05)
    async with TerminalSimulator(url(server), terminal.sn, reconnect=False) as newcomer:
        with pytest.raises(SessionClosed) as caught:
            await asyncio.wait_for(pending, 2)
        assert caught.value.reason == "replaced"
        new = server.session(terminal.sn)
        assert new is not None and new is not old
        assert (old, "replaced") in handler.disconnected
        await wait_for(lambda: terminal.websocket is None or terminal.websocket.close_code is not None)
        with pytest.raises(SessionClosed):
            await old.command("getdevinfo")
        assert (await new.command("gettime"))["time"] == newcomer.now()
    await wait_for(lambda: server.session(terminal.sn) is None)
    assert handler.disconnected[-1][1] == "closed"


# --------------------------------------------------------------------------------------------- bad input


async def test_bad_input_is_answered_and_logged_once(
    server: Tm20Server, handler: RecordingHandler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "integrations.tm20")
    reg = json.dumps({"cmd": "reg", "sn": "BADIN", "devinfo": {}})
    frames: list[str | bytes] = [
        reg,
        '{"cmd":"sendlog","record":[{"enrollid":1,',  # broken, but named
        '{"cmd":"sendlog","record":[{"enrollid":1,',
        "garbage",  # nameless: no answer possible
        "garbage",
        '{"sn":"BADIN"}',  # neither cmd nor ret
        '{"cmd":"sendfoo"}',
        '{"cmd":"sendfoo"}',
        '{"cmd":"sendlog","count":1,"record":"not a list"}',
        '{"cmd":"senduser","enrollid":"x","backupnum":0}',
        '{"cmd":"sendqrcode","record":{"a":1}}',
        '{"cmd":"sendlog","count":1,"logindex":2,"record":[{"enrollid":1,"time":"2024-01-01 08:00:00",},]}',
    ]
    replies = await raw_exchange(server, frames)
    assert [reply["ret"] for reply in replies] == [
        "reg",
        "sendlog",
        "sendlog",
        "sendfoo",
        "sendfoo",
        "sendlog",
        "senduser",
        "sendqrcode",
        "sendlog",
    ]
    assert replies[1] == {"ret": "sendlog", "result": False, "reason": "invalid JSON"}
    assert replies[3] == {"ret": "sendfoo", "result": False, "reason": "unknown command"}
    assert [reply["result"] for reply in replies[5:8]] == [False, False, False]
    assert replies[-1]["result"] is True and replies[-1]["logindex"] == 2  # trailing commas repaired
    messages = [record.getMessage() for record in caplog.records if record.name.startswith("integrations.tm20")]
    assert sum("invalid JSON" in message for message in messages) == 1  # once per connection and kind
    assert sum("unknown request" in message for message in messages) == 1


async def test_huge_frames_close_with_1009_and_the_server_stays_up(handler: RecordingHandler) -> None:
    server = Tm20Server(handler, host="127.0.0.1", port=0, max_frame=64 * 1024)
    await server.start()
    try:
        async with connect(url(server), compression=None) as ws:
            await ws.send(json.dumps({"cmd": "reg", "sn": "BIG1"}))
            await ws.recv()
            await ws.send(json.dumps({"cmd": "senduser", "record": "x" * 100_000}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 2)
            assert ws.close_code == 1009
        async with TerminalSimulator(url(server), "BIG2", reconnect=False) as simulator:
            assert (await simulator.send_logs(simulator.make_logs(1)))["result"] is True
    finally:
        await server.stop()


# ---------------------------------------------------------------------------------------------- liveness


async def test_silent_terminals_are_closed_and_answering_ones_kept(handler: RecordingHandler) -> None:
    server = Tm20Server(handler, host="127.0.0.1", port=0, ping_interval=0.1, offline_timeout=0.6)
    await server.start()
    try:
        async with TerminalSimulator(url(server), "ALIVE", reconnect=False):
            silent = TerminalSimulator(url(server), "SILENT", reconnect=False)
            await silent.start()
            assert silent.websocket is not None
            silent.websocket.transport.pause_reading()  # a hung terminal: no pong, no message
            await wait_for(lambda: server.session("SILENT") is None, timeout=5)
            assert any(s.sn == "SILENT" and reason == "timeout" for s, reason in handler.disconnected)
            await asyncio.sleep(0.8)  # past the offline timeout: pongs keep the idle one alive
            assert server.session("ALIVE") is not None
            seen = handler.seen
            await asyncio.sleep(0.3)
            assert handler.seen > seen  # idle but answering pings: reported alive
            silent.websocket.transport.abort()
            await silent.close()
    finally:
        await server.stop()


async def test_stop_ends_sessions_and_fails_pending_commands(handler: RecordingHandler) -> None:
    server = Tm20Server(handler, host="127.0.0.1", port=0)
    await server.start()
    simulator = TerminalSimulator(url(server), "STOP1", reconnect=False)
    await simulator.start()
    simulator.mute.add("getdevinfo")
    session = server.session("STOP1")
    assert session is not None
    pending = asyncio.create_task(session.command("getdevinfo", reply_timeout=10))
    await asyncio.sleep(0.05)
    await server.stop()
    with pytest.raises(SessionClosed):
        await pending
    assert handler.disconnected == [(session, "stopped")]
    assert server.sessions == {}
    await simulator.close()


async def test_users_in_the_simulator_model_come_back_in_pulls(server: Tm20Server) -> None:
    users = [SimUser(1, "Ana", credentials={11: 5, 50: "/9j/4AAQ"})]
    async with TerminalSimulator(url(server), "PULL1", users=users) as simulator:
        session = server.session(simulator.sn)
        assert session is not None
        photo = await session.command("getuserinfo", enrollid=1, backupnum=50)
        assert photo["record"] == "/9j/4AAQ"
        with pytest.raises(CommandFailed) as caught:
            await session.command("getuserinfo", enrollid=1, backupnum=0)
        assert caught.value.msg == "have no data"
