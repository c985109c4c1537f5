"""The TM20 wire format: lenient parsing, the exact replies of REFERENCE §1.4, cloudtime, the code tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from integrations.tm20.protocol import (
    Credential,
    DoorEvent,
    ProtocolError,
    alive_reply,
    clean_log_record,
    cloudtime,
    credential_kind,
    door_event_name,
    error_reply,
    guess_name,
    log_method,
    normalize_temp,
    parse_message,
    parse_terminal_time,
    reg_reply,
    registration_info,
    sendlog_reply,
    sendpin_reply,
    sendqrcode_reply,
    senduser_reply,
    serial_of,
)


def test_request_and_reply_are_told_apart() -> None:
    request = parse_message('{"cmd":"reg","sn":"ZX0006827500","devinfo":{"modelname":"tfs30"}}')
    assert (request.kind, request.name, request.echoed) == ("request", "reg", False)
    assert request.body["devinfo"] == {"modelname": "tfs30"}
    reply = parse_message(b'{"ret":"getuserlist","result":true,"count":0}')
    assert (reply.kind, reply.name) == ("reply", "getuserlist")


def test_padded_keys_and_names_are_trimmed_at_every_level() -> None:
    message = parse_message('{" ret ":" getuserinfo ","result":true,"record":[{" enrollid ":1}]}')
    assert message.name == "getuserinfo"
    assert message.body["ret"] == "getuserinfo"
    assert message.body["record"] == [{"enrollid": 1}]


def test_trailing_commas_are_repaired() -> None:
    text = '{"cmd":"sendlog","sn":"A1","count":1,"record":[{"enrollid":1,"time":"2024-01-01 08:00:00",},]}'
    message = parse_message(text)
    assert message.body["record"] == [{"enrollid": 1, "time": "2024-01-01 08:00:00"}]


def test_last_duplicate_key_wins() -> None:
    assert parse_message('{"cmd":"getquestionnaire","sn":"one","sn":"two"}').body["sn"] == "two"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("not json at all", "invalid JSON"),
        ("[1, 2]", "message is not a JSON object"),
        ('{"sn":"A1"}', "message has neither cmd nor ret"),
        ('{"cmd": 5}', "cmd is not a command name"),
        ('{"ret": ""}', "ret is not a command name"),
        (b"\xff\xfe{", "message is not UTF-8 text"),
    ],
)
def test_bad_frames_raise_protocol_error(frame: str | bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_message(frame)
    assert caught.value.reason == reason


def test_a_broken_request_still_names_its_command() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_message('{"cmd": "sendlog", "record": [ {"enrollid": }')
    assert caught.value.name == "sendlog"
    assert guess_name('{"ret":"getnewlog", oops') is None  # replies are never answered


def test_cloudtime_is_local_wall_clock_without_offset() -> None:
    now = datetime(2024, 7, 1, 6, 30, 5, tzinfo=UTC)
    assert cloudtime(now, ZoneInfo("Europe/Paris")) == "2024-07-01 08:30:05"
    assert cloudtime(now, ZoneInfo("America/Sao_Paulo")) == "2024-07-01 03:30:05"
    assert cloudtime(datetime(2024, 7, 1, 6, 30, 5), ZoneInfo("UTC")) == "2024-07-01 06:30:05"  # naive = UTC
    parsed = parse_terminal_time("2024-07-01 08:30:05", ZoneInfo("Europe/Paris"))
    assert parsed is not None and parsed.astimezone(UTC) == now
    assert parse_terminal_time("yesterday", ZoneInfo("UTC")) is None


def test_reg_replies() -> None:
    assert reg_reply(True, cloudtime="2024-01-01 00:00:00") == {
        "ret": "reg",
        "result": True,
        "cloudtime": "2024-01-01 00:00:00",
    }
    assert reg_reply(True, cloudtime="t", nosenduser=True)["nosenduser"] is True
    refused = reg_reply(False, cloudtime="t", reason="AB12 is not registered on this hub")
    assert refused == {"ret": "reg", "result": False, "cloudtime": "t", "reason": "AB12 is not registered on this hub"}


def test_sendlog_reply_echoes_count_and_logindex() -> None:
    ok = sendlog_reply(True, count=10, logindex=7, cloudtime="t")
    assert ok == {"ret": "sendlog", "result": True, "count": 10, "logindex": 7, "cloudtime": "t"}
    decided = sendlog_reply(True, count=1, logindex=0, cloudtime="t", access=1, message="Welcome")
    assert (decided["access"], decided["message"], decided["logindex"]) == (1, "Welcome", 0)
    failed = sendlog_reply(False, count=10, logindex=7, cloudtime="t")
    assert failed == {"ret": "sendlog", "result": False, "count": 10, "logindex": 7, "cloudtime": "t", "reason": 1}
    assert "count" not in sendlog_reply(True, count=None, logindex=None, cloudtime="t")


def test_other_replies() -> None:
    assert senduser_reply(True, cloudtime="t", enrollid=5, backupnum=11) == {
        "ret": "senduser",
        "result": True,
        "cloudtime": "t",
        "enrollid": 5,
        "backupnum": 11,
    }
    assert sendqrcode_reply(True, access=1, enrollid=5, username="Ana", message="Hi", voice="<name>") == {
        "ret": "sendqrcode",
        "result": True,
        "access": 1,
        "enrollid": 5,
        "username": "Ana",
        "message": "Hi",
        "voice": "<name>",
    }
    assert sendpin_reply(True, access=0) == {"ret": "sendpin", "result": True, "access": 0}
    assert alive_reply("checklive", cloudtime="t") == {"ret": "checklive", "result": True, "cloudtime": "t"}
    assert error_reply("getfoo", "unknown command") == {"ret": "getfoo", "result": False, "reason": "unknown command"}
    # every builder gives plain JSON
    json.dumps(sendqrcode_reply(False))


def test_reg_devinfo_nested_or_flattened() -> None:
    nested = {"cmd": "reg", "sn": "A1", "cpusn": "c", "devinfo": {"modelname": "AiFace", "usersize": 3000}}
    flat = {"cmd": "reg", "sn": "A1", "modelname": "AiFace", "usersize": 3000, "cpusn": "c"}
    assert (
        registration_info(nested) == registration_info(flat) == {"modelname": "AiFace", "usersize": 3000, "cpusn": "c"}
    )
    assert serial_of({"sn": " AYTE16052143 "}) == "AYTE16052143"
    assert serial_of({"sn": 12345}) == "12345"
    assert serial_of({"sn": ""}) is None and serial_of({}) is None and serial_of({"sn": True}) is None


@pytest.mark.parametrize(
    ("backupnum", "kind"),
    [
        (0, Credential.FINGERPRINT),
        (9, Credential.FINGERPRINT),
        (10, Credential.PASSWORD),
        (11, Credential.CARD),
        (12, Credential.ALL_FINGERPRINTS),
        (13, Credential.EVERYTHING),
        (20, Credential.FACE),
        (27, Credential.FACE),
        (30, Credential.PALM),
        (41, Credential.PALM),
        (50, Credential.PHOTO),
        (14, Credential.UNKNOWN),
        (-1, Credential.UNKNOWN),
    ],
)
def test_backupnum_kinds(backupnum: int, kind: Credential) -> None:
    assert credential_kind(backupnum) is kind


def test_log_code_tables() -> None:
    assert door_event_name(DoorEvent.FORCED_OPEN) == "forced_open"
    assert door_event_name(42) == "event_42"
    assert log_method(1) == "fingerprint" and log_method(3) == "card" and log_method(8) == "face"
    assert log_method(3, 13) == "qr"
    assert log_method(99) == "unknown" and log_method(None) == "unknown"
    assert normalize_temp(36.5) == 36.5 and normalize_temp(3650) == 36.5 and normalize_temp("36.6") == 36.6
    assert normalize_temp(None) is None and normalize_temp("hot") is None


def test_log_records_are_checked_and_coerced() -> None:
    good = {"enrollid": 1, "time": "2024-01-01 08:00:00", "mode": 1, "inout": 0, "event": 0, "temp": 36.5}
    assert clean_log_record(good) is good  # the common case costs no copy
    fixed = clean_log_record({"enrollid": "12", "time": "2024-01-01 08:00:00 ", "mode": "3"})
    assert fixed == {"enrollid": 12, "time": "2024-01-01 08:00:00", "mode": 3, "inout": 0, "event": 0}
    assert clean_log_record({"time": "2024-01-01 08:00:00"}) is None
    assert clean_log_record({"enrollid": 1}) is None
    assert clean_log_record({"enrollid": 1, "time": "t", "mode": "face"}) is None
    assert clean_log_record("record") is None
