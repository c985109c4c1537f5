"""The TM20 WebSocket + JSON wire format: lenient parsing, the replies the server must send, the code tables.

Pure functions and data only (no sockets), so the server, the simulator and the tests share one definition of
the protocol in ../shared/protocols/REFERENCE.md §1. Parsing takes the fast path (``json.loads``) and falls back
to a small repair only when a frame is not valid JSON, because real firmware sends ``},]}`` and padded keys.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

# Messages the terminal starts (it expects a ``ret`` back); anything else arriving as ``cmd`` may be a reply
# from firmware that echoes ``cmd`` instead of ``ret``.
TERMINAL_REQUESTS = frozenset({"reg", "sendlog", "senduser", "sendqrcode", "sendpin", "heartbeat", "checklive"})
# Commands whose reply never comes: the terminal restarts at once.
NO_REPLY_COMMANDS = frozenset({"reboot"})
# Paged commands (``stn`` true for the first page, false for the next).
PAGED_COMMANDS = frozenset({"getuserlist", "getnewlog", "getalllog", "getallusers"})
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_CMD_IN_TEXT = re.compile(r'"\s*cmd\s*"\s*:\s*"\s*([A-Za-z_]{1,40})\s*"')


class ProtocolError(ValueError):
    """A frame the protocol cannot make sense of; ``reason`` is short and safe to send back to the terminal."""

    def __init__(self, reason: str, name: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name


@dataclass(slots=True)
class Message:
    """One parsed frame: a terminal ``request`` (it had ``cmd``) or a ``reply`` to our command (``ret``).

    ``echoed`` is true for a reply recognised by the session although the firmware sent ``cmd`` instead of ``ret``.
    """

    kind: Literal["request", "reply"]
    name: str
    body: dict[str, Any]
    echoed: bool = False


def parse_message(text: str | bytes) -> Message:
    """Parse one frame leniently: trailing commas repaired, keys and ``cmd``/``ret`` trimmed, last duplicate wins."""
    try:
        body = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        body = _repair(text)
    if not isinstance(body, dict):
        raise ProtocolError("message is not a JSON object", guess_name(text))
    body = _trim_keys(body)
    if "ret" in body:
        kind: Literal["request", "reply"] = "reply"
        name = body["ret"]
    elif "cmd" in body:
        kind, name = "request", body["cmd"]
    else:
        raise ProtocolError("message has neither cmd nor ret")
    if not isinstance(name, str) or not name.strip():
        raise ProtocolError(f"{'ret' if kind == 'reply' else 'cmd'} is not a command name")
    stripped = name.strip()
    if stripped != name:
        body["ret" if kind == "reply" else "cmd"] = stripped
    return Message(kind, stripped, body)


def guess_name(text: str | bytes) -> str | None:
    """The ``cmd`` name of a request that failed to parse, so the error can still be answered by name."""
    if isinstance(text, bytes):
        text = text[:4096].decode("utf-8", "replace")
    match = _CMD_IN_TEXT.search(text[:4096])
    return match.group(1) if match else None


def _repair(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ProtocolError("message is not UTF-8 text") from err
    repaired = _TRAILING_COMMA.sub(r"\1", text)
    try:
        return json.loads(repaired)
    except ValueError as err:
        raise ProtocolError("invalid JSON", guess_name(text)) from err


# Keys already seen without padding: a frame made only of these (nearly all) is checked by one set comparison.
_CLEAN_KEYS: set[str] = {"cmd", "ret", "sn", "result", "count", "logindex", "record", "enrollid", "time", "mode"}
_NESTED = ("record", "devinfo")


def _trim_keys(body: dict[str, Any]) -> dict[str, Any]:
    """Strip spaces around keys (``" ret "``) at the top level and in ``record``/``devinfo`` items."""
    body = _trim_dict(body)
    for key in _NESTED:
        nested = body.get(key)
        if isinstance(nested, dict):
            body[key] = _trim_dict(nested)
        elif isinstance(nested, list):
            body[key] = [_trim_dict(item) if isinstance(item, dict) else item for item in nested]
    return body


def _trim_dict(value: dict[str, Any]) -> dict[str, Any]:
    if value.keys() <= _CLEAN_KEYS:
        return value
    if any(key != key.strip() for key in value):
        value = {key.strip(): item for key, item in value.items()}
    if len(_CLEAN_KEYS) < 4096:
        _CLEAN_KEYS.update(value)
    return value


def dumps(payload: dict[str, Any]) -> str:
    """Compact JSON, UTF-8 names kept as they are (terminals show them on screen)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def cloudtime(now: datetime, zone: ZoneInfo) -> str:
    """The terminal's wall-clock time, ``YYYY-MM-DD HH:MM:SS`` (never ISO-8601/UTC: terminals take it verbatim)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo("UTC"))
    return now.astimezone(zone).strftime(TIME_FORMAT)


def parse_terminal_time(text: str, zone: ZoneInfo) -> datetime | None:
    """A terminal's naive ``YYYY-MM-DD HH:MM:SS`` as an aware datetime in ``zone``; None when unreadable."""
    try:
        return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=zone)
    except (ValueError, AttributeError):
        return None


def command(name: str, /, **fields: Any) -> dict[str, Any]:
    """A server → terminal command frame."""
    return {"cmd": name, **fields}


# ------------------------------------------------------------------------------------------------ replies


def reg_reply(ok: bool, *, cloudtime: str, nosenduser: bool | None = None, reason: str | None = None) -> dict[str, Any]:
    """``reg``: success sets the clock (and optionally stops ``senduser``); a refusal's reason shows on screen."""
    reply: dict[str, Any] = {"ret": "reg", "result": ok, "cloudtime": cloudtime}
    if ok and nosenduser is not None:
        reply["nosenduser"] = nosenduser
    if not ok:
        reply["reason"] = reason or "registration refused"
    return reply


def sendlog_reply(
    ok: bool,
    *,
    count: int | None,
    logindex: int | None,
    cloudtime: str,
    access: int | None = None,
    message: str | None = None,
    reason: int | str | None = None,
) -> dict[str, Any]:
    """``sendlog``: ``count`` and ``logindex`` echoed whenever sent (without them firmware resends forever)."""
    reply: dict[str, Any] = {"ret": "sendlog", "result": ok}
    if count is not None:
        reply["count"] = count
    if logindex is not None:
        reply["logindex"] = logindex
    reply["cloudtime"] = cloudtime
    if ok:
        if access is not None:
            reply["access"] = access
        if message is not None:
            reply["message"] = message
    else:
        reply["reason"] = 1 if reason is None else reason
    return reply


def senduser_reply(ok: bool, *, cloudtime: str, enrollid: int | None, backupnum: int | None) -> dict[str, Any]:
    """``senduser``: the union of the document (``cloudtime``) and the vendor demo (``enrollid``, ``backupnum``)."""
    reply: dict[str, Any] = {"ret": "senduser", "result": ok, "cloudtime": cloudtime}
    if enrollid is not None:
        reply["enrollid"] = enrollid
    if backupnum is not None:
        reply["backupnum"] = backupnum
    if not ok:
        reply["reason"] = 1
    return reply


def sendqrcode_reply(
    ok: bool,
    *,
    cloudtime: str | None = None,
    access: int | None = None,
    enrollid: int | None = None,
    username: str | None = None,
    message: str | None = None,
    voice: str | None = None,
) -> dict[str, Any]:
    """``sendqrcode``: every field but ``ret``/``result`` is optional; ``enrollid`` goes into the terminal's log."""
    reply: dict[str, Any] = {"ret": "sendqrcode", "result": ok}
    _put(reply, cloudtime=cloudtime, access=access, enrollid=enrollid, username=username, message=message, voice=voice)
    if not ok:
        reply["reason"] = 1
    return reply


def sendpin_reply(
    ok: bool,
    *,
    cloudtime: str | None = None,
    access: int | None = None,
    message: str | None = None,
    voice: str | None = None,
    voiceindex: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """``sendpin`` (server keypad mode, vendor demo only)."""
    reply: dict[str, Any] = {"ret": "sendpin", "result": ok}
    _put(reply, cloudtime=cloudtime, access=access, message=message, voice=voice, voiceindex=voiceindex, name=name)
    if not ok:
        reply["reason"] = 1
    return reply


def alive_reply(name: str, *, cloudtime: str) -> dict[str, Any]:
    """``heartbeat`` / ``checklive`` (unverified messages): answered in case some firmware sends them."""
    return {"ret": name, "result": True, "cloudtime": cloudtime}


def error_reply(name: str, reason: int | str) -> dict[str, Any]:
    """A refusal the terminal can read: ``{"ret": name, "result": false, "reason": ...}``."""
    return {"ret": name, "result": False, "reason": reason}


def _put(reply: dict[str, Any], **fields: Any) -> None:
    for key, value in fields.items():
        if value is not None:
            reply[key] = value


# ------------------------------------------------------------------------------------------- code tables


class Credential(StrEnum):
    """What a ``backupnum`` slot holds. Informative: the raw number is always kept beside it."""

    FINGERPRINT = "fingerprint"
    PASSWORD = "password"
    CARD = "card"
    ALL_FINGERPRINTS = "all_fingerprints"
    EVERYTHING = "everything"
    FACE = "face"
    PALM = "palm"
    PHOTO = "photo"
    UNKNOWN = "unknown"


# deleteuser-only pseudo slots
BACKUPNUM_ALL_FINGERPRINTS = 12
BACKUPNUM_EVERYTHING = 13
BACKUPNUM_PASSWORD = 10
BACKUPNUM_CARD = 11
BACKUPNUM_PHOTO = 50


def credential_kind(backupnum: int) -> Credential:
    """backupnum → kind: 0-9 fingerprint, 10 password, 11 card, 12/13 delete-only, 20-27 face, 30-37/40-41 palm."""
    if 0 <= backupnum <= 9:
        return Credential.FINGERPRINT
    if 20 <= backupnum <= 27:
        return Credential.FACE
    if 30 <= backupnum <= 37 or backupnum in (40, 41):
        return Credential.PALM
    return _SINGLE_SLOTS.get(backupnum, Credential.UNKNOWN)


_SINGLE_SLOTS = {
    BACKUPNUM_PASSWORD: Credential.PASSWORD,
    BACKUPNUM_CARD: Credential.CARD,
    BACKUPNUM_ALL_FINGERPRINTS: Credential.ALL_FINGERPRINTS,
    BACKUPNUM_EVERYTHING: Credential.EVERYTHING,
    BACKUPNUM_PHOTO: Credential.PHOTO,
}


def is_numeric_credential(backupnum: int) -> bool:
    """Passwords and cards travel as JSON numbers in ``record``; templates and photos as strings."""
    return backupnum in (BACKUPNUM_PASSWORD, BACKUPNUM_CARD)


class Admin(IntEnum):
    NORMAL = 0
    ADMINISTRATOR = 1
    SUPER_USER = 2


INOUT = {0: "in", 1: "out"}


class DoorEvent(IntEnum):
    """``event`` of a door/system log (``enrollid == 0``); the numbering follows the vendor's C enum (inferred)."""

    DOOR_CLOSED = 0
    DOOR_OPENED = 1
    EXIT_BUTTON = 2
    SOFTWARE_OPEN = 3
    SOFTWARE_CLOSE = 4
    FORCED_OPEN = 5
    TAMPER = 6
    INPUT_ALARM = 7


def door_event_name(event: int) -> str:
    try:
        return DoorEvent(event).name.lower()
    except ValueError:
        return f"event_{event}"


# Log ``mode``: sources disagree (REFERENCE §1.3); this is the document's ``sendlog`` comment. Store raw.
LOG_MODES = {1: "fingerprint", 2: "password", 3: "card", 8: "face"}
VERIFYMODE_QR = 13
# TopData: ``enrollid`` 99999999 is the "unknown face" id.
UNKNOWN_ENROLLID = 99999999


def log_method(mode: int | None, verifymode: int | None = None) -> str:
    """A readable verify method for a log record; ``unknown`` when the firmware's numbering is not known."""
    if verifymode == VERIFYMODE_QR:
        return "qr"
    return LOG_MODES.get(mode, "unknown") if mode is not None else "unknown"


# Device-level ``verifymode`` (setdevinfo): which credentials the terminal requires.
DEVICE_VERIFY_MODES = {
    0: "card or fingerprint or password",
    1: "card and fingerprint",
    2: "password and fingerprint",
    3: "card and fingerprint and password",
    4: "card and password",
}


def normalize_temp(value: Any) -> float | None:
    """Body temperature as °C: floats (36.5) as they are, x100 integers (3650) divided back."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return round(number / 100, 2) if number > 100 else number


# ------------------------------------------------------------------------------------------- validation


def registration_info(body: dict[str, Any]) -> dict[str, Any]:
    """``devinfo`` from a ``reg``: nested, or flattened to the top level by some firmware."""
    devinfo = body.get("devinfo")
    if isinstance(devinfo, dict):
        info = dict(devinfo)
    else:
        info = {key: value for key, value in body.items() if key not in ("cmd", "sn", "devinfo")}
    if "cpusn" in body and "cpusn" not in info:
        info["cpusn"] = body["cpusn"]
    return info


def as_int(value: Any) -> int | None:
    """An int from a JSON number or a numeric string (firmware is not consistent); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def serial_of(body: dict[str, Any]) -> str | None:
    """The ``sn`` as a trimmed string (some firmware sends it as a number)."""
    sn = body.get("sn")
    if isinstance(sn, int) and not isinstance(sn, bool):
        sn = str(sn)
    if isinstance(sn, str) and sn.strip():
        return sn.strip()
    return None


_LOG_INTS = ("mode", "inout", "event")


def clean_log_record(record: Any) -> dict[str, Any] | None:
    """A log record with ``enrollid`` int, ``time`` str and ``mode``/``inout``/``event`` ints (0 when absent).

    Returns the same dict when nothing needs fixing (the common case), a fixed copy otherwise, None when the
    record is unusable (no ``enrollid`` or ``time``). Unknown keys (``temp``, ``verifymode``, ``image``) are kept.
    """
    if not isinstance(record, dict):
        return None
    enrollid, time = record.get("enrollid"), record.get("time")
    if type(enrollid) is int and type(time) is str and all(type(record.get(key, 0)) is int for key in _LOG_INTS):
        return record
    fixed = dict(record)
    fixed["enrollid"] = as_int(enrollid)
    if fixed["enrollid"] is None or not isinstance(time, str) or not time.strip():
        return None
    fixed["time"] = time.strip()
    for key in _LOG_INTS:
        number = as_int(record.get(key, 0))
        if number is None:
            return None
        fixed[key] = number
    return fixed
