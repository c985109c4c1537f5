"""``gatehouse simulate station``: the real command against a real hub, one station typing a code, many stations
from a token file, and its errors for bad arguments or a refused token."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from hub.cli import build_parser
from hub.plugins import PluginManager
from hub.testing import wait_for

from .agent_support import Site, eventually, make_site, site

__all__ = ["make_site", "site"]


def parse(*argv: str) -> object:
    plugins = PluginManager()
    plugins.load_all(entry_points=False)
    return build_parser(plugins).parse_args(["simulate", "station", *argv])


async def test_the_command_types_a_code_counts_down_and_obeys_the_hub(site: Site) -> None:
    station, token = await site.station("PC-1", "192.0.2.11")
    session = await site.new_session(20)
    command = [sys.executable, "-m", "hub", "simulate", "station", "--hub", site.url, "--address", "192.0.2.11",
               "--token", token, "--code", session["code"].lower(), "--duration", "30"]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**os.environ}
    )
    assert process.stdout is not None
    lines: list[str] = []

    async def line_with(text: str) -> str:
        while True:
            raw = await asyncio.wait_for(process.stdout.readline(), 20)  # type: ignore[union-attr]
            assert raw, f"the simulator exited before printing {text!r}: {lines}"
            lines.append(raw.decode())
            if text in lines[-1]:
                return lines[-1]

    try:
        hello = json.loads((await line_with('"type":"hello"')).split(": ", 1)[1])
        assert hello["station"]["name"] == "PC-1"
        started = json.loads((await line_with('"type":"session"')).split(": ", 1)[1])
        assert started["session_id"] == session["id"] and started["remaining"] > 1190

        async def active() -> bool:
            return (await site.session(session["id"]))["status"] == "active"

        await eventually(active)
        assert site.status(station) == "busy"
        status, _ = await site.api.post(f"/api/stations/sessions/{session['id']}/add-time", {"minutes": 5})
        assert status == 200
        assert '"seconds":300' in await line_with('"type":"add_time"')
        status, _ = await site.api.post(f"/api/stations/sessions/{session['id']}/terminate")
        assert status == 200
        assert '"reason":"terminated"' in await line_with('"type":"close_session"')
    finally:
        process.terminate()  # Ctrl-C / SIGTERM: the agents close and the summary is printed
        rest, _ = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0
    assert "stations 1, connected 1, refused 0" in rest.decode()
    await wait_for(lambda: not site.manager.station_dict(station.id)["connected"])


async def test_many_stations_from_a_token_file(site: Site, tmp_path: Path) -> None:
    tokens = {}
    for number in range(1, 6):
        station, token = await site.station(f"PC-{number}", f"10.0.0.{number}")
        tokens[station.address or ""] = token
    token_file = tmp_path / "tokens.json"
    token_file.write_text(json.dumps(tokens), encoding="utf-8")
    args = parse("--hub", site.url, "--token-file", str(token_file), "--count", "4", "--duration", "1.5", "--quiet")

    code = await asyncio.to_thread(args.func, args)  # type: ignore[attr-defined]

    assert code == 0
    online = [record.name for record in site.manager.stations(site.tenant.id) if site.status(record) == "available"]
    assert online == ["PC-1", "PC-2", "PC-3", "PC-4"]  # within offline_after of their last heartbeat
    assert site.status(site.manager.stations(site.tenant.id)[4]) == "offline"


async def test_a_refused_token_is_reported_and_the_command_fails(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    await site.station("PC-1", "192.0.2.11")
    args = parse("--hub", site.url, "--address", "PC-1", "--token", "stolen", "--duration", "5")
    code = await asyncio.to_thread(args.func, args)  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    assert code == 1
    assert "PC-1: refused: HTTP 401: wrong agent token for this station" in out
    assert "stations 1, connected 0, refused 1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "give --address and --token"),
        (("--address", "PC-1", "--token", "t", "--count", "3"), "--count needs --token-file"),
        (("--token-file", "/nonexistent/tokens.json"), "--token-file: cannot read"),
    ],
)
def test_bad_arguments_are_explained(argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(*argv)
    assert args.func(args) == 2  # type: ignore[attr-defined]
    assert message in capsys.readouterr().out


def test_a_token_file_must_map_addresses_to_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "tokens.json"
    token_file.write_text(json.dumps(["PC-1", "secret"]), encoding="utf-8")
    args = parse("--token-file", str(token_file))
    assert args.func(args) == 2  # type: ignore[attr-defined]
    assert "expected a JSON object of address -> token" in capsys.readouterr().out
    token_file.write_text(json.dumps({"PC-1": "secret"}), encoding="utf-8")
    args = parse("--token-file", str(token_file), "--count", "2")
    assert args.func(args) == 2  # type: ignore[attr-defined]
    assert "only 1 stations" in capsys.readouterr().out
