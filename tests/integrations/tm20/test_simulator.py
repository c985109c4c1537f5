"""The terminal simulator: its model's answers, the firmware quirks, reconnects, many at once, and the CLI."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.cli import build_parser
from hub.plugins import PluginManager
from hub.testing import free_port, wait_for
from integrations.tm20 import cli as tm20_cli
from integrations.tm20.server import LogDecision, QrDecision, RegisterDecision, TerminalSession, Tm20Server
from integrations.tm20.simulator import SimLog, TerminalSimulator, simulate_many


class CountingHandler:
    """This test's TerminalHandler: keeps every log (by logindex too) and can hold the first commit."""

    def __init__(self) -> None:
        self.logs: list[dict[str, Any]] = []
        self.batches: list[int | None] = []
        self.hold_first: float = 0.0
        self.registered: list[str] = []

    async def on_register(self, session: TerminalSession, devinfo: dict[str, Any]) -> RegisterDecision:
        return RegisterDecision(True)

    async def on_logs(
        self, session: TerminalSession, records: list[dict[str, Any]], *, count: int | None, logindex: int | None
    ) -> LogDecision:
        self.batches.append(logindex)
        if self.hold_first and len(self.batches) == 1:
            await asyncio.sleep(self.hold_first)
        self.logs.extend(records)
        return LogDecision()

    async def on_user(self, session: TerminalSession, user: dict[str, Any]) -> None:
        return None

    async def on_qrcode(self, session: TerminalSession, text: str) -> QrDecision:
        return QrDecision()

    async def on_pin(self, session: TerminalSession, pin: str, time: str | None) -> QrDecision:
        return QrDecision()

    async def on_registered(self, session: TerminalSession) -> None:
        self.registered.append(session.sn or "")

    async def on_seen(self, session: TerminalSession) -> None:
        return None

    async def on_disconnected(self, session: TerminalSession, reason: str) -> None:
        return None


@pytest.fixture
def handler() -> CountingHandler:
    return CountingHandler()


@pytest.fixture
async def server(handler: CountingHandler) -> AsyncIterator[Tm20Server]:
    server = Tm20Server(handler, host="127.0.0.1", port=free_port())
    await server.start()
    yield server
    await server.stop()


def url(server: Tm20Server) -> str:
    return f"ws://127.0.0.1:{server.port}/ws/tm20/"


# ------------------------------------------------------------------------------------- the model, no socket


def test_model_answers_user_commands() -> None:
    terminal = TerminalSimulator("ws://unused", "M1")
    assert ask(terminal, "setuserinfo", {"enrollid": 7, "name": "Zoé", "backupnum": 11, "admin": 1, "record": 42})[
        "result"
    ]
    assert ask(terminal, "setuserinfo", {"enrollid": 7, "backupnum": 0, "record": "FPDATA"})["result"]
    assert ask(terminal, "getuserinfo", {"enrollid": 7, "backupnum": 11})["record"] == 42
    assert ask(terminal, "getusername", {"enrollid": 7})["record"] == "Zoé"
    listing = ask(terminal, "getuserlist", {"stn": True})
    assert listing["record"] == [
        {"enrollid": 7, "admin": 1, "backupnum": 0},
        {"enrollid": 7, "admin": 1, "backupnum": 11},
    ]
    assert ask(terminal, "deleteuser", {"enrollid": 7, "backupnum": 12})["result"]  # all fingerprints
    assert set(terminal.users[7].credentials) == {11}
    assert ask(terminal, "enableuser", {"enrollid": 7, "enflag": 0})["result"] and not terminal.users[7].enabled
    assert ask(terminal, "cleanadmin", {})["result"] and terminal.users[7].admin == 0
    assert ask(terminal, "deleteuser", {"enrollid": 7, "backupnum": 13})["result"] and 7 not in terminal.users
    missing = ask(terminal, "getuserinfo", {"enrollid": 7, "backupnum": 11})
    assert (missing["result"], missing["msg"]) == (False, "can not find the user")
    assert terminal.answer("reboot", {}) is None
    unknown = ask(terminal, "getalluserinfo", {})
    assert (unknown["result"], unknown["msg"]) == (False, "can not find this command")


def test_model_answers_device_commands() -> None:
    terminal = TerminalSimulator("ws://unused", "M2")
    ask(terminal, "settime", {"cloudtime": "2030-01-02 03:04:05"})
    assert ask(terminal, "gettime", {})["time"].startswith("2030-01-02 03:04")
    ask(terminal, "setdevinfo", {"volume": 9, "verifymode": 2})
    assert ask(terminal, "getdevinfo", {})["volume"] == 9
    ask(terminal, "setdevlock", {"opendelay": 10, "mutiopen": 2, "InputAlarm": 1})
    lock = ask(terminal, "getdevlock", {})
    assert (lock["opendelay"], lock["mutiopen"], lock["InputAlarm"]) == (10, 2, 1)
    terminal.add_user(3, "Ana", card=1)
    ask(terminal, "setuserlock", {"count": 1, "record": [{"enrollid": 3, "weekzone": 2, "group": 1}]})
    assert ask(terminal, "getuserlock", {"enrollid": 3})["weekzone"] == 2
    ask(terminal, "opendoor", {"doornum": 1})
    assert terminal.door_openings == 1 and terminal.logs[-1].record["event"] == 3  # a door log, enrollid 0
    ask(terminal, "setuserprofile", {"enrollid": 0, "profile": "Closed on Friday"})
    assert ask(terminal, "getuserprofile", {"enrollid": 0})["record"] == "Closed on Friday"
    for name in ("disabledevice", "enabledevice", "cleanuserlock", "cleanlog", "initsys", "cleanuser", "keypad"):
        assert ask(terminal, name, {})["result"] is True
    assert terminal.users == {} and terminal.logs == []


def test_log_paging_follows_the_stop_rule() -> None:
    terminal = TerminalSimulator("ws://unused", "M3")
    terminal.logs.clear()
    terminal.logs.extend(SimLog(record) for record in terminal.make_logs(120))
    first = ask(terminal, "getnewlog", {"stn": True})
    assert (first["count"], first["from"], first["to"], len(first["record"])) == (120, 0, 49, 50)
    second = ask(terminal, "getnewlog", {"stn": False})
    assert (second["from"], second["to"]) == (50, 99)
    third = ask(terminal, "getnewlog", {"stn": False})
    assert (third["to"] + 1, third["count"]) == (120, 120)
    assert ask(terminal, "getnewlog", {"stn": True}) == {
        "ret": "getnewlog",
        "sn": "M3",
        "result": True,
        "count": 0,
        "from": 0,
        "to": 0,
        "record": [],
    }
    window = ask(terminal, "getalllog", {"stn": True, "from": "2000-01-01", "to": "2001-01-01"})
    assert window["count"] == 0


def ask(terminal: TerminalSimulator, name: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = terminal.answer(name, body)
    assert reply is not None
    return reply


def test_unknown_quirks_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown quirks"):
        TerminalSimulator("ws://unused", "Q", quirks={"teleport"})


# ---------------------------------------------------------------------------------------- over a socket


async def test_flat_reg_and_cmd_echo_on_the_wire(server: Tm20Server) -> None:
    async with TerminalSimulator(url(server), "Q1", quirks={"flat_reg", "cmd_echo"}) as terminal:
        session = server.session("Q1")
        assert session is not None and session.devinfo["modelname"] == "tfs30"
        reply = await session.command("gettime")
        assert reply["cmd"] == "gettime" and "ret" not in reply  # the echo quirk, still matched
        assert terminal.received[-1] == {"cmd": "gettime"}


async def test_retransmit_quirk_resends_the_same_batch(server: Tm20Server, handler: CountingHandler) -> None:
    handler.hold_first = 0.6
    async with TerminalSimulator(url(server), "Q2", quirks={"retransmit"}, retransmit_after=0.2) as terminal:
        records = terminal.make_logs(3)
        ack = await asyncio.wait_for(terminal.send_logs(records, logindex=77), 5)
        assert ack["result"] is True and ack["logindex"] == 77
        await wait_for(lambda: len(handler.batches) >= 2)
        assert handler.batches[:2] == [77, 77]  # the very same batch, twice: the hub must de-duplicate
        assert all(not log.new for log in terminal.logs)


async def test_without_the_quirk_an_unacked_batch_times_out(server: Tm20Server, handler: CountingHandler) -> None:
    handler.hold_first = 0.5
    async with TerminalSimulator(url(server), "Q3", retransmit_after=0.1) as terminal:
        with pytest.raises(TimeoutError):
            await terminal.send_logs(terminal.make_logs(1))
        assert terminal.logs[-1].new  # not acknowledged: still new, getnewlog would return it


async def test_reconnects_and_registers_again_after_a_server_restart(handler: CountingHandler) -> None:
    port = free_port()
    first = Tm20Server(handler, host="127.0.0.1", port=port)
    await first.start()
    terminal = TerminalSimulator(f"ws://127.0.0.1:{port}/", "R1", reconnect_delay=0.05)
    try:
        await terminal.start()
        await first.stop()
        await wait_for(lambda: not terminal.registered.is_set())
        second = Tm20Server(handler, host="127.0.0.1", port=port)
        await second.start()
        try:
            # The terminal counts its registration when the server's reply reaches it, just after the server
            # holds the session: wait for both (the same race as in the drop test below).
            await wait_for(lambda: second.session("R1") is not None and terminal.registrations == 2, timeout=5)
            assert handler.registered == ["R1", "R1"]
            assert (await terminal.send_logs(terminal.make_logs(2)))["result"] is True
        finally:
            await second.stop()
    finally:
        await terminal.close()


async def test_drop_cuts_the_line_and_the_terminal_comes_back(server: Tm20Server) -> None:
    async with TerminalSimulator(url(server), "R2", reconnect_delay=0.05) as terminal:
        old = server.session("R2")
        await terminal.drop()
        # The server holds the new session as soon as the ``reg`` arrives; the terminal counts the registration when
        # the reply reaches it, a moment later (this race was the test's rare failure).
        await wait_for(lambda: server.session("R2") not in (None, old) and terminal.registrations == 2, timeout=5)


async def test_simulate_many(server: Tm20Server, handler: CountingHandler) -> None:
    stats = await simulate_many(url(server), 20, rate=400, batch=5, prefix="MANY", duration=1.0)
    assert stats.connected == 20 and stats.failed == 0
    assert stats.logs == len(handler.logs) > 0
    assert len(stats.latencies) == stats.batches
    assert {sn for sn in handler.registered} == {f"MANY{number:06d}" for number in range(1, 21)}


# ------------------------------------------------------------------------------------------------- the CLI


def test_simulate_command_is_added_once_per_device() -> None:
    plugins = PluginManager()
    plugins.register(tm20_cli, name="tm20_cli_test")
    parser = build_parser(plugins)
    args = parser.parse_args(
        ["simulate", "tm20", "--count", "3", "--url", "ws://127.0.0.1:1/", "--quirks", "flat_reg,cmd_echo"]
    )
    assert (args.count, args.url, args.logs_per_batch, args.interval, args.serial_prefix) == (
        3,
        "ws://127.0.0.1:1/",
        10,
        5.0,
        "SIM",
    )
    # a second integration adding its device finds the same ``simulate`` command
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    devices = tm20_cli.simulate_devices(commands)
    devices.add_parser("other")
    assert set(devices.choices) == {"tm20", "other"}


def test_the_package_exposes_the_hook() -> None:
    plugins = PluginManager()
    plugins.load_all(entry_points=False)
    args = build_parser(plugins).parse_args(["simulate", "tm20"])
    assert args.func is not None and args.count == 1


async def test_simulate_tm20_runs_against_an_endpoint(
    server: Tm20Server, handler: CountingHandler, capsys: pytest.CaptureFixture[str]
) -> None:
    plugins = PluginManager()
    plugins.register(tm20_cli, name="tm20_cli_test")
    args = build_parser(plugins).parse_args(
        ["simulate", "tm20", "--count", "4", "--url", url(server), "--interval", "0.2", "--duration", "1"]
    )
    code = await asyncio.to_thread(args.func, args)
    assert code == 0
    out = capsys.readouterr().out
    assert "connected 4" in out
    assert len(handler.logs) >= 4 * 10
