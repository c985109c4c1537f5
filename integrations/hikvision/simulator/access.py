"""An access terminal's event log and doors: the AcsEvent history search (real paging, time window, serialNo
range), RemoteControl of doors with AcsWorkStatus reflecting it.

Every access event gets the next serialNo, whether it was streamed (``emit_access``) or happened while no one
listened (``record_offline_access``); the history is what a hub backfills from after a reconnect.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from .documents import (
    IsapiRequestError,
    bad_parameter,
    document,
    integer,
    local_name,
    parse_xml,
    read_json,
    response_status,
    wants_json,
    xml_fields,
)
from .paging import SearchPager

if TYPE_CHECKING:
    from .device import IsapiDeviceSimulator

DoorCommand = Literal["open", "close", "alwaysOpen", "alwaysClose"]
DOOR_COMMANDS: dict[str, int] = {"open": 1024, "close": 1025, "alwaysOpen": 1026, "alwaysClose": 1027}  # major 3
DOOR_STATUS = {"normal": 4, "alwaysOpen": 2, "alwaysClose": 3}  # AcsWorkStatus.doorStatus values


@dataclass(slots=True)
class DoorState:
    mode: Literal["normal", "alwaysOpen", "alwaysClose"] = "normal"
    unlocked: bool = False
    relock: asyncio.TimerHandle | None = None


class AccessControl:
    """The access side of one device: history (serialNo -> record) and doors."""

    def __init__(
        self, device: IsapiDeviceSimulator, *, doors: int, max_results: int, history_limit: int, open_seconds: float = 5
    ) -> None:
        self.device = device
        self.history: list[tuple[float, dict[str, Any]]] = []  # (unix time, InfoList record), serialNo order
        self.history_limit = history_limit
        self.doors = [DoorState() for _ in range(max(1, doors))]
        self.open_seconds = open_seconds
        self.pager = SearchPager(cap=max_results)
        self._serial = itertools.count(1)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/ISAPI/AccessControl/AcsEvent", self._acs_event)
        router.add_post("/ISAPI/AccessControl/AcsEventTotalNum", self._acs_event_total)
        router.add_put("/ISAPI/AccessControl/RemoteControl/door/{door}", self._remote_control)
        router.add_get("/ISAPI/AccessControl/AcsWorkStatus", self._work_status)

    def stop(self) -> None:
        for door in self.doors:
            if door.relock is not None:
                door.relock.cancel()

    # ------------------------------------------------------------------------------------------ history

    @property
    def last_serial_no(self) -> int:
        return int(self.history[-1][1]["serialNo"]) if self.history else 0

    def record_event(
        self,
        major: int,
        minor: int,
        *,
        employee_no: str | None,
        name: str | None,
        door: int,
        card_no: str | None,
        reader: int,
        verify_mode: str,
        when: datetime | None,
    ) -> dict[str, Any]:
        """Add one record to the history and return it (InfoList shape)."""
        moment = when or datetime.now(self.device.time_zone)
        if name is None and employee_no is not None:
            name = str(self.device.people.users.get(employee_no, {}).get("name", ""))
        record: dict[str, Any] = {
            "major": major,
            "minor": minor,
            "time": self.device.now_text(moment),
            "doorNo": door,
            "cardReaderNo": reader,
            "serialNo": next(self._serial),
            "currentVerifyMode": verify_mode,
            "type": 0,
            "mask": "no",
            "attendanceStatus": "undefined",
        }
        if employee_no is not None:
            record["employeeNoString"] = employee_no
            record["name"] = name or ""
        if card_no is not None:
            record["cardNo"] = card_no
        self.history.append((moment.timestamp(), record))
        if len(self.history) > self.history_limit:
            del self.history[: len(self.history) - self.history_limit]
        return record

    def stream_block(self, record: dict[str, Any]) -> dict[str, Any]:
        """The ``AccessControllerEvent`` object of a streamed or pushed event for a history ``record``."""
        block: dict[str, Any] = {
            "deviceName": self.device.name,
            "majorEventType": record["major"],
            "subEventType": record["minor"],
            "cardReaderKind": 1,
            "cardReaderNo": record["cardReaderNo"],
            "verifyNo": 1,
            "serialNo": record["serialNo"],
            "frontSerialNo": record["serialNo"] - 1,
            "currentVerifyMode": record["currentVerifyMode"],
            "attendanceStatus": record["attendanceStatus"],
            "label": "",
            "statusValue": 0,
            "mask": "no",
            "purePwdVerifyEnable": True,
            "doorNo": record["doorNo"],
        }
        if "employeeNoString" in record:
            block.update(name=record["name"], employeeNoString=record["employeeNoString"], userType="normal")
        if "cardNo" in record:
            block.update(cardNo=record["cardNo"], cardType=1)
        return block

    def _matches(self, cond: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
        major = integer(cond, "major", 0)
        minor = integer(cond, "minor", 0)
        start = _time_bound(cond, "startTime", self.device)
        end = _time_bound(cond, "endTime", self.device)
        first_serial = integer(cond, "beginSerialNo", 0)
        last_serial = integer(cond, "endSerialNo", 0)
        employee = cond.get("employeeNoString")
        reverse = bool(cond.get("timeReverseOrder", False))

        def matches() -> list[dict[str, Any]]:
            found = [
                record
                for stamp, record in self.history
                if (not major or record["major"] == major)
                and (not minor or record["minor"] == minor)
                and (start is None or stamp >= start)
                and (end is None or stamp <= end)
                and (not first_serial or record["serialNo"] >= first_serial)
                and (not last_serial or record["serialNo"] <= last_serial)
                and (not employee or record.get("employeeNoString") == employee)
            ]
            return found[::-1] if reverse else found

        return matches

    async def _acs_event(self, request: web.Request) -> web.Response:
        cond = await read_json(request, "AcsEventCond")
        records, fields = self.pager.page(cond, self._matches(cond))
        payload: dict[str, Any] = dict(fields)
        if records:
            payload["InfoList"] = records
        return document(request, "AcsEvent", payload)

    async def _acs_event_total(self, request: web.Request) -> web.Response:
        cond = await read_json(request, "AcsEventTotalNumCond")
        return document(request, "AcsEventTotalNum", {"totalNum": len(self._matches(cond)())})

    # ------------------------------------------------------------------------------------------ doors

    async def _remote_control(self, request: web.Request) -> web.Response:
        number = request.match_info["door"]
        if not number.isdigit() or not 1 <= int(number) <= len(self.doors):
            raise IsapiRequestError(6, "badParameters", f"door {number} does not exist (1..{len(self.doors)})")
        if wants_json(request):
            command = (await read_json(request, "RemoteControlDoor")).get("cmd")
        else:
            root = parse_xml(await request.read())
            command = xml_fields(root).get("cmd") if local_name(root.tag) == "RemoteControlDoor" else None
        if command not in DOOR_COMMANDS:
            raise bad_parameter("cmd", f"must be one of {', '.join(DOOR_COMMANDS)}")
        self.command_door(int(number), command)
        return response_status(request)

    def command_door(self, number: int, command: DoorCommand) -> None:
        door = self.doors[number - 1]
        if door.relock is not None:
            door.relock.cancel()
            door.relock = None
        if command == "open":
            door.mode, door.unlocked = "normal", True
            door.relock = asyncio.get_running_loop().call_later(self.open_seconds, self._relock, door)
        elif command == "close":
            door.mode, door.unlocked = "normal", False
        elif command == "alwaysOpen":
            door.mode, door.unlocked = "alwaysOpen", True
        else:
            door.mode, door.unlocked = "alwaysClose", False
        record = self.record_event(
            3, DOOR_COMMANDS[command], employee_no=None, name=None, door=number, card_no=None, reader=0,
            verify_mode="invalid", when=None,
        )  # fmt: skip
        event = self.device.new_event("AccessControllerEvent", active=True, channel=None, seq=record["serialNo"])
        event.date_time = record["time"]
        event.access = self.stream_block(record)
        self.device.publish(event)

    @staticmethod
    def _relock(door: DoorState) -> None:
        door.relock = None
        if door.mode == "normal":
            door.unlocked = False

    async def _work_status(self, request: web.Request) -> web.Response:
        return document(request, "AcsWorkStatus", self.work_status())

    def work_status(self) -> dict[str, Any]:
        return {
            "doorLockStatus": [1 if door.unlocked else 0 for door in self.doors],
            "doorStatus": [DOOR_STATUS[door.mode] for door in self.doors],
            "magneticStatus": [0 for _ in self.doors],
            "caseStatus": [0],
            "cardReaderOnlineStatus": [1 for _ in self.doors],
            "cardReaderAntiDismantleStatus": [0 for _ in self.doors],
            "antiSneakStatus": "close",
            "hostAntiDismantleStatus": "close",
            "cardNum": len(self.device.people.cards),
            "netStatus": "connect",
            "InterfaceStatusList": [{"id": 1, "netStatus": "connect"}],
        }


def _time_bound(cond: dict[str, Any], field: str, device: IsapiDeviceSimulator) -> float | None:
    value = cond.get(field)
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise bad_parameter(field, "is not an ISO 8601 time") from None
    if moment.tzinfo is None:  # device-local time
        moment = moment.replace(tzinfo=device.time_zone)
    return moment.timestamp()
