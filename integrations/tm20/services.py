"""Every server command of the protocol as a service ``tm20.<command>``, plus door, people push and pull.

``COMMANDS`` holds each command's schema: services, ``TerminalManager.run_command`` and the REST endpoint
validate with the same one. Destructive commands (``cleanuser``, ``initsys``, ``cleanlog``, ``cleanadmin``)
require ``confirm: true`` and are never retried. A command service targets terminals by device (or by one of
their entities) and returns the terminal's reply: ``{sn: reply}`` when it targets several.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.auth.scope import NotFound
from hub.core import Hub, ServiceCall
from hub.exceptions import ServiceValidationError

from .const import DESTRUCTIVE_COMMANDS, DOMAIN, MANUFACTURER

if TYPE_CHECKING:
    from .manager import TerminalManager

ENROLLID = vol.All(vol.Coerce(int), vol.Range(min=0, max=999_999_999_999))
BACKUPNUM = vol.All(vol.Coerce(int), vol.Range(min=0, max=99))
ADMIN = vol.All(vol.Coerce(int), vol.In([0, 1, 2]))
RECORD = vol.Any(int, str)
DATE = vol.All(str, vol.Length(min=8, max=19))


def _must_be_true(value: Any) -> bool:
    if value is not True:
        raise vol.Invalid("must be true: this command erases data on the terminal")
    return True


CONFIRM = {vol.Required("confirm", msg="required: this command erases data on the terminal"): _must_be_true}
_NAMES = vol.All([{vol.Required("enrollid"): ENROLLID, vol.Required("name"): str}], vol.Length(min=1, max=50))
_USER_LOCKS = vol.All(
    [
        vol.Schema(
            {
                vol.Required("enrollid"): ENROLLID,
                vol.Optional("weekzone"): int,
                vol.Optional("weekzone2"): int,
                vol.Optional("weekzone3"): int,
                vol.Optional("weekzone4"): int,
                vol.Optional("group"): vol.All(int, vol.Range(min=0, max=9)),
                vol.Optional("starttime"): str,
                vol.Optional("endtime"): str,
            }
        )
    ],
    vol.Length(min=1, max=40),
)
# setdevinfo / setdevlock / holidays / keypad carry firmware-specific keys: the known ones are typed, the rest
# pass through (the reference lists spellings such as "mutiopen" and "InputAlarm" that must go out as given).
_DEVINFO = {
    vol.Optional("deviceid"): int,
    vol.Optional("language"): int,
    vol.Optional("volume"): vol.All(int, vol.Range(min=0, max=10)),
    vol.Optional("screensaver"): vol.All(int, vol.Range(min=0, max=255)),
    vol.Optional("verifymode"): vol.All(int, vol.Range(min=0, max=4)),
    vol.Optional("sleep"): vol.In([0, 1]),
    vol.Optional("userfpnum"): vol.All(int, vol.Range(min=1, max=10)),
    vol.Optional("loghint"): int,
    vol.Optional("reverifytime"): vol.All(int, vol.Range(min=0, max=255)),
}
_DEVLOCK = {
    vol.Optional("opendelay"): int,
    vol.Optional("doorsensor"): vol.In([0, 1, 2]),
    vol.Optional("alarmdelay"): int,
    vol.Optional("threat"): vol.All(int, vol.Range(min=0, max=3)),
    vol.Optional("antpass"): vol.In([0, 1, 2]),
    vol.Optional("mutiopen"): vol.All(int, vol.Range(min=0, max=4)),
    vol.Optional("tryalarm"): vol.All(int, vol.Range(min=0, max=10)),
    vol.Optional("wgformat"): vol.In([0, 1]),
    vol.Optional("dayzone"): list,
    vol.Optional("weekzone"): list,
    vol.Optional("lockgroup"): list,
}


def _schema(fields: Mapping[Any, Any], *, extra: bool = False) -> vol.Schema:
    return vol.Schema(dict(fields), extra=vol.ALLOW_EXTRA if extra else vol.PREVENT_EXTRA)


COMMANDS: dict[str, vol.Schema] = {
    "getuserlist": _schema({}),
    "getuserinfo": _schema({vol.Required("enrollid"): ENROLLID, vol.Required("backupnum"): BACKUPNUM}),
    "setuserinfo": _schema(
        {
            vol.Required("enrollid"): ENROLLID,
            vol.Optional("name", default=""): str,
            vol.Required("backupnum"): BACKUPNUM,
            vol.Optional("admin", default=0): ADMIN,
            vol.Required("record"): RECORD,
            vol.Optional("verifymode"): int,
        }
    ),
    "deleteuser": _schema({vol.Required("enrollid"): ENROLLID, vol.Optional("backupnum", default=13): BACKUPNUM}),
    "getusername": _schema({vol.Required("enrollid"): ENROLLID}),
    "setusername": _schema({vol.Required("record"): _NAMES}),
    "enableuser": _schema({vol.Required("enrollid"): ENROLLID, vol.Optional("enflag", default=1): vol.In([0, 1])}),
    "cleanuser": _schema(CONFIRM),
    "getnewlog": _schema({}),
    "getalllog": _schema({vol.Optional("from"): DATE, vol.Optional("to"): DATE}),
    "cleanlog": _schema(CONFIRM),
    "initsys": _schema(CONFIRM),
    "reboot": _schema({}),
    "cleanadmin": _schema(CONFIRM),
    "settime": _schema({vol.Optional("cloudtime"): vol.All(str, vol.Length(min=19, max=19))}),
    "gettime": _schema({}),
    "setdevinfo": _schema(_DEVINFO, extra=True),
    "getdevinfo": _schema({}),
    "opendoor": _schema({vol.Optional("doornum"): vol.All(vol.Coerce(int), vol.Range(min=1, max=4))}),
    "setdevlock": _schema(_DEVLOCK, extra=True),
    "getdevlock": _schema({}),
    "getuserlock": _schema({vol.Required("enrollid"): ENROLLID}),
    "setuserlock": _schema({vol.Required("record"): _USER_LOCKS}),
    "deleteuserlock": _schema({vol.Required("enrollid"): ENROLLID}),
    "cleanuserlock": _schema({}),
    "disabledevice": _schema({}),
    "enabledevice": _schema({}),
    "getholiday": _schema({}, extra=True),
    "setholiday": _schema({}, extra=True),
    "setuserprofile": _schema(
        {vol.Required("enrollid"): ENROLLID, vol.Required("profile"): vol.All(str, vol.Length(max=4096))}
    ),
    "getuserprofile": _schema({vol.Required("enrollid"): ENROLLID}),
    "adduser": _schema(
        {
            vol.Required("enrollid"): ENROLLID,
            vol.Required("backupnum"): BACKUPNUM,
            vol.Optional("admin", default=0): ADMIN,
            vol.Optional("name", default=""): str,
            vol.Optional("flag", default=10): int,
        }
    ),
    "keypad": _schema({vol.Optional("keep"): bool, vol.Optional("on"): bool, vol.Optional("timeout"): int}, extra=True),
}
assert COMMANDS.keys() >= DESTRUCTIVE_COMMANDS

SERVICE_OPEN_DOOR = "open_door"
SERVICE_PUSH_PERSON = "push_person"
SERVICE_PULL_USERS = "pull_users"
OPEN_DOOR_SCHEMA = _schema({vol.Optional("doornum"): vol.All(vol.Coerce(int), vol.Range(min=1, max=4))})
PUSH_PERSON_SCHEMA = vol.Schema(
    vol.All(
        {vol.Optional("person_id"): str, vol.Optional("enrollid"): ENROLLID},
        vol.Any(
            vol.Schema({vol.Required("person_id"): str}, extra=vol.ALLOW_EXTRA),
            vol.Schema({vol.Required("enrollid"): ENROLLID}, extra=vol.ALLOW_EXTRA),
            msg="give person_id or enrollid",
        ),
    )
)
PULL_USERS_SCHEMA = _schema({})


def target_serials(hub: Hub, call: ServiceCall) -> list[str]:
    """The TM20 serials a call targets, by device id or by one of a terminal's entities."""
    serials: list[str] = []
    for device_id in call.device_ids:
        device = hub.devices.get(device_id)
        if device is None or device.manufacturer != MANUFACTURER:
            raise ServiceValidationError(DOMAIN, call.service, {"device_id": f"{device_id} is not a TM20 terminal"})
        serials.append(device.serial_number)
    for entity_id in call.entity_ids:
        entry = hub.entities.get(entity_id)
        device = hub.devices.get(entry.device_id) if entry is not None and entry.device_id else None
        if entry is None or entry.platform != DOMAIN or device is None:
            raise ServiceValidationError(DOMAIN, call.service, {"entity_id": f"{entity_id} is not a TM20 entity"})
        serials.append(device.serial_number)
    if not serials:
        raise ServiceValidationError(DOMAIN, call.service, {"device_id": "required: target a TM20 terminal"})
    return list(dict.fromkeys(serials))


def _one_or_many(replies: dict[str, Any]) -> Any:
    return next(iter(replies.values())) if len(replies) == 1 else replies


def async_register_services(hub: Hub, manager: TerminalManager) -> None:
    """One service per command, and the door, push and pull services."""

    def command_handler(command: str) -> Any:
        async def handle(call: ServiceCall) -> Any:
            replies = {sn: await manager.run_command(sn, command, dict(call.data)) for sn in target_serials(hub, call)}
            return _one_or_many(replies)

        return handle

    for command, schema in COMMANDS.items():
        hub.services.register(
            DOMAIN,
            command,
            command_handler(command),
            schema,
            description=f"Send {command} to a TM20 terminal and return its reply"
            + (" (erases data: needs confirm: true)" if command in DESTRUCTIVE_COMMANDS else ""),
        )

    async def open_door(call: ServiceCall) -> Any:
        replies = {sn: await manager.run_command(sn, "opendoor", dict(call.data)) for sn in target_serials(hub, call)}
        return _one_or_many(replies)

    async def push_person(call: ServiceCall) -> Any:
        tenant_id = call.context.tenant_id if call.context is not None else None
        person = manager.people.lookup(call.data.get("person_id"), call.data.get("enrollid"), tenant_id)
        if person is None:
            raise NotFound("person", str(call.data.get("person_id") or call.data.get("enrollid")))
        queued = await manager.people.push(person)
        return {"person_id": person.id, "terminals": queued}

    async def pull_users(call: ServiceCall) -> Any:
        return _one_or_many({sn: await manager.people.pull(sn) for sn in target_serials(hub, call)})

    hub.services.register(
        DOMAIN, SERVICE_OPEN_DOOR, open_door, OPEN_DOOR_SCHEMA, description="Open a TM20 terminal's door (opendoor)"
    )
    hub.services.register(
        DOMAIN,
        SERVICE_PUSH_PERSON,
        push_person,
        PUSH_PERSON_SCHEMA,
        description="Push a person (name, credentials, enabled) to every terminal of their tenant",
    )
    hub.services.register(
        DOMAIN,
        SERVICE_PULL_USERS,
        pull_users,
        PULL_USERS_SCHEMA,
        description="Read a terminal's users (getuserlist + getuserinfo) into its tenant's people",
    )


def async_remove_services(hub: Hub) -> None:
    for service in (*COMMANDS, SERVICE_OPEN_DOOR, SERVICE_PUSH_PERSON, SERVICE_PULL_USERS):
        hub.services.remove(DOMAIN, service)
