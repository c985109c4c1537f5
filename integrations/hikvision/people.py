"""People on an access terminal: pushed to it (UserInfo, CardInfo, FDLib face) and read back from it.

``PERSON_SCHEMA`` is the one shape of a person for the services and the REST API. Pushing is idempotent: a user
the device has is modified rather than added, a card it has is left alone, so pushing the same person to the
same terminal twice changes nothing the second time.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import voluptuous as vol

from .device import HikDevice
from .isapi_client import IsapiDeviceError

EMPLOYEE_NO = vol.All(vol.Coerce(str), vol.Strip, vol.Length(min=1, max=32))
CARD_NO = vol.All(
    vol.Coerce(str), vol.Strip, vol.Match(r"^[0-9A-Za-z]{1,32}$", msg="expected 1 to 32 letters or digits")
)
#: A face picture for enrolment: JPEG, base64; terminals take about 200 KB at most.
MAX_FACE_BYTES = 200 * 1024
DEFAULT_VALID_FROM = "2000-01-01T00:00:00"
DEFAULT_VALID_UNTIL = "2037-12-31T23:59:59"


def _device_time(value: Any) -> str:
    """A validity bound as terminals want it: local ``YYYY-MM-DDTHH:MM:SS`` (no offset)."""
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise vol.Invalid("expected a date and time such as 2026-09-01T07:00:00") from None
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _face(value: Any) -> bytes:
    try:
        jpeg = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise vol.Invalid("expected a base64-encoded JPEG") from None
    if jpeg[:2] != b"\xff\xd8":
        raise vol.Invalid("expected a JPEG picture (base64)")
    if len(jpeg) > MAX_FACE_BYTES:
        raise vol.Invalid(f"the picture is {len(jpeg) // 1024} KB; terminals take {MAX_FACE_BYTES // 1024} KB at most")
    return jpeg


PERSON_FIELDS: dict[Any, Any] = {
    vol.Required("employee_no", description="the person's number on the terminal"): EMPLOYEE_NO,
    vol.Required("name"): vol.All(vol.Coerce(str), vol.Strip, vol.Length(min=1, max=64)),
    vol.Optional("user_type", default="normal"): vol.In(["normal", "visitor", "blackList"]),
    vol.Optional("valid_from", default=DEFAULT_VALID_FROM): _device_time,
    vol.Optional("valid_until", default=DEFAULT_VALID_UNTIL): _device_time,
    vol.Optional("doors", default=[1]): vol.All(
        [vol.All(vol.Coerce(int), vol.Range(min=1, max=64))], vol.Length(min=1)
    ),
    vol.Optional("cards", default=list): vol.All([CARD_NO], vol.Length(max=5)),
    vol.Optional("face", description="JPEG, base64, 200 KB at most"): _face,
}
PERSON_SCHEMA = vol.Schema(PERSON_FIELDS)


def user_info(person: Mapping[str, Any]) -> dict[str, Any]:
    """The ISAPI ``UserInfo`` object of a validated person."""
    doors = sorted(set(person["doors"]))
    return {
        "employeeNo": person["employee_no"],
        "name": person["name"],
        "userType": person["user_type"],
        "Valid": {
            "enable": True,
            "beginTime": person["valid_from"],
            "endTime": person["valid_until"],
            "timeType": "local",
        },
        "doorRight": ",".join(str(door) for door in doors),
        "RightPlan": [{"doorNo": door, "planTemplateNo": "1"} for door in doors],
    }


async def push_person(device: HikDevice, person: Mapping[str, Any]) -> dict[str, Any]:
    """Add or update the person on the terminal, with their cards and face. Returns what was done."""
    client = device.client
    employee_no = person["employee_no"]
    existing = [user async for user in client.search_users([employee_no])]
    info = user_info(person)
    if existing:
        await client.modify_user(info)
    else:
        await client.add_users([info])
    have = {str(card.get("cardNo")) async for card in client.search_cards([employee_no])}
    new_cards = [card for card in person["cards"] if card not in have]
    for card in new_cards:
        try:
            await client.add_cards([{"employeeNo": employee_no, "cardNo": card, "cardType": "normalCard"}])
        except IsapiDeviceError as err:
            if "alreadyexist" not in err.sub_status_code.lower():
                raise
    face = person.get("face")
    if face is not None:
        try:
            await client.add_face(employee_no, face)
        except IsapiDeviceError as err:
            if "alreadyexist" not in err.sub_status_code.lower():
                raise
            await client.delete_faces([employee_no])  # a new picture replaces the enrolled one
            await client.add_face(employee_no, face)
    return {
        "employee_no": employee_no,
        "user": "modified" if existing else "added",
        "cards_added": new_cards,
        "face": face is not None,
    }


async def delete_person(device: HikDevice, employee_no: str) -> None:
    """Remove the person with their cards and face (a person the device does not have counts as removed)."""
    await device.client.delete_users([employee_no])


async def pull_users(device: HikDevice) -> list[dict[str, Any]]:
    """Everyone on the terminal with their cards and whether a face is enrolled, by employee number."""
    client = device.client
    users: dict[str, dict[str, Any]] = {}
    async for user in client.search_users():
        employee_no = str(user.get("employeeNo") or "")
        if not employee_no:
            continue
        given = user.get("Valid")
        valid: dict[str, Any] = given if isinstance(given, dict) else {}
        users[employee_no] = {
            "employee_no": employee_no,
            "name": user.get("name"),
            "user_type": user.get("userType"),
            "valid_from": valid.get("beginTime"),
            "valid_until": valid.get("endTime"),
            "doors": user.get("doorRight"),
            "cards": [],
            "face": False,
        }
    async for card in client.search_cards():
        owner = users.get(str(card.get("employeeNo") or ""))
        if owner is not None and card.get("cardNo"):
            owner["cards"].append(str(card["cardNo"]))
    try:
        async for face in client.search_faces():
            owner = users.get(str(face.get("FPID") or ""))
            if owner is not None:
                owner["face"] = True
    except IsapiDeviceError:
        pass  # no face library on this terminal
    return sorted(users.values(), key=lambda user: user["employee_no"])
