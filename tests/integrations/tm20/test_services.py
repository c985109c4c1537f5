"""Every server command is a service ``tm20.<command>`` returning the terminal's reply; destructive ones need
``confirm: true``; a tenant's call cannot target another tenant's terminal."""

from __future__ import annotations

import pytest

from hub.auth.scope import NotFound
from hub.core import Context
from hub.exceptions import ServiceValidationError
from hub.testing import wait_for
from integrations.tm20.services import COMMANDS
from integrations.tm20.simulator import SimLog

from .conftest import Tm20Site

REFERENCE_COMMANDS = {
    "getuserlist", "getuserinfo", "setuserinfo", "deleteuser", "getusername", "setusername", "enableuser",
    "cleanuser", "getnewlog", "getalllog", "cleanlog", "initsys", "reboot", "cleanadmin", "settime", "gettime",
    "setdevinfo", "getdevinfo", "opendoor", "setdevlock", "getdevlock", "getuserlock", "setuserlock",
    "deleteuserlock", "cleanuserlock", "disabledevice", "enabledevice", "getholiday", "setholiday",
    "setuserprofile", "getuserprofile", "adduser", "keypad",
}  # fmt: skip


def test_every_reference_command_is_a_service_schema() -> None:
    assert set(COMMANDS) == REFERENCE_COMMANDS


async def test_every_command_service_is_registered(site: Tm20Site) -> None:
    for command in (*REFERENCE_COMMANDS, "open_door", "push_person", "pull_users"):
        assert site.hub.services.has("tm20", command), command


async def test_commands_return_the_terminals_reply(site: Tm20Site) -> None:
    device_id = await site.claim("SRV00001", "Office")
    terminal = await site.terminal("SRV00001")
    call = site.hub.services.call
    info = await call("tm20", "getdevinfo", target={"device_id": device_id})
    assert info["result"] is True and "volume" in info
    await call("tm20", "setdevinfo", {"volume": 3}, target={"device_id": device_id})
    assert terminal.settings["volume"] == 3
    await call(
        "tm20",
        "setuserinfo",
        {"enrollid": 3, "name": "Zed", "backupnum": 11, "record": 99},
        target={"device_id": device_id},
    )
    assert terminal.users[3].credentials[11] == 99
    user = await call("tm20", "getuserinfo", {"enrollid": 3, "backupnum": 11}, target={"device_id": device_id})
    assert user["name"] == "Zed" and user["record"] == 99
    users = await call("tm20", "getuserlist", target={"device_id": device_id})
    assert users["count"] == 1 and users["record"][0]["enrollid"] == 3
    await call("tm20", "setusername", {"record": [{"enrollid": 3, "name": "Zoe"}]}, target={"device_id": device_id})
    assert terminal.users[3].name == "Zoe"
    clock = await call("tm20", "gettime", target={"entity_id": "lock.office_door"})
    assert "time" in clock


async def test_open_door_opens_and_the_lock_shows_unlocked(site: Tm20Site) -> None:
    await site.claim("SRV00002", "Gate")
    terminal = await site.terminal("SRV00002")
    await site.hub.services.call("tm20", "open_door", {"doornum": 2}, target={"entity_id": "lock.gate_door"})
    assert terminal.door_openings == 1 and terminal.last_doornum == 2
    assert site.hub.states.get("lock.gate_door").state == "unlocked"


async def test_destructive_commands_need_confirm(site: Tm20Site) -> None:
    device_id = await site.claim("SRV00003")
    terminal = await site.terminal("SRV00003")
    terminal.add_user(1, "A")
    for command in ("cleanuser", "initsys", "cleanlog", "cleanadmin"):
        with pytest.raises(ServiceValidationError) as error:
            await site.hub.services.call("tm20", command, target={"device_id": device_id})
        assert "confirm" in error.value.fields
    with pytest.raises(ServiceValidationError):
        await site.hub.services.call("tm20", "cleanuser", {"confirm": False}, target={"device_id": device_id})
    assert 1 in terminal.users
    await site.hub.services.call("tm20", "cleanuser", {"confirm": True}, target={"device_id": device_id})
    assert terminal.users == {}
    assert "confirm" not in next(c for c in terminal.received if c.get("cmd") == "cleanuser")


async def test_bad_params_name_the_field(site: Tm20Site) -> None:
    device_id = await site.claim("SRV00004")
    await site.terminal("SRV00004")
    with pytest.raises(ServiceValidationError) as error:
        await site.hub.services.call("tm20", "getuserinfo", {"enrollid": "x"}, target={"device_id": device_id})
    assert set(error.value.fields) >= {"enrollid"}


async def test_a_tenant_cannot_command_another_tenants_terminal(site: Tm20Site) -> None:
    device_id = await site.claim("SRV00005")
    await site.terminal("SRV00005")
    other = await site.hub.tenants.create("other")
    with pytest.raises(NotFound):
        await site.hub.services.call(
            "tm20", "opendoor", target={"device_id": device_id}, context=Context(tenant_id=other.id)
        )


async def test_the_getnewlog_service_stores_logs_and_reboot_returns_at_once(site: Tm20Site) -> None:
    device_id = await site.claim("SRV00006")
    terminal = await site.terminal("SRV00006")
    await wait_for(lambda: any(command.get("cmd") == "getnewlog" for command in terminal.received))  # the drain
    terminal.logs.extend(SimLog(record) for record in terminal.make_logs(3))
    reply = await site.hub.services.call("tm20", "getnewlog", target={"device_id": device_id})
    assert reply["count"] == 3
    await wait_for(lambda: len(site.of_type("access")) == 3)
    assert await site.hub.services.call("tm20", "reboot", target={"device_id": device_id}) == {}
