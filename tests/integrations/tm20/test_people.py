"""People: managed once per tenant, pushed to every terminal of the tenant (queued for offline ones, kept across
a restart), deleted everywhere, pulled from a terminal, learned from keypad enrollments."""

from __future__ import annotations

import asyncio

from hub.testing import wait_for
from hub.testing.database import count_rows

from .conftest import Tm20Site


async def test_a_new_person_reaches_every_connected_terminal_of_the_tenant(site: Tm20Site) -> None:
    await site.claim("PPL00001")
    await site.claim("PPL00002")
    first, second = await site.terminal("PPL00001"), await site.terminal("PPL00002")
    stranger = await site.terminal("OTHER001")  # held: not the tenant's
    person = await site.manager.people.create(
        site.tenant.id, enrollid=42, name="Ada", credentials=[{"backupnum": 11, "record": "2352253"}]
    )
    assert person["credentials"] == [11] and "records" not in person
    await wait_for(lambda: all(42 in t.users and t.users[42].name == "Ada" for t in (first, second)))
    for terminal in (first, second):
        assert terminal.users[42].credentials[11] == 2352253  # a card travels as a JSON number
    assert 42 not in stranger.users


async def test_an_offline_terminal_gets_the_queue_when_it_registers(site: Tm20Site) -> None:
    await site.claim("PPL00003")
    person = await site.manager.people.create(site.tenant.id, enrollid=5, name="Bob")
    await site.manager.people.update(person["id"], enabled=False, name="Robert")
    assert await count_rows(site.hub.database, "tm20_pending_commands") > 0
    terminal = await site.terminal("PPL00003")
    await wait_for(lambda: 5 in terminal.users and not terminal.users[5].enabled)
    assert terminal.users[5].name == "Robert"
    for _ in range(100):  # the last command is removed from the queue just after the terminal applied it
        if await count_rows(site.hub.database, "tm20_pending_commands") == 0:
            break
        await asyncio.sleep(0.02)
    assert await count_rows(site.hub.database, "tm20_pending_commands") == 0


async def test_deleting_a_person_deletes_them_on_the_terminals(site: Tm20Site) -> None:
    await site.claim("PPL00004")
    terminal = await site.terminal("PPL00004")
    person = await site.manager.people.create(site.tenant.id, enrollid=9, name="Cy")
    await wait_for(lambda: 9 in terminal.users)
    await site.manager.people.delete(person["id"])
    await wait_for(lambda: 9 not in terminal.users)
    assert await site.manager.people.get(person["id"]) is None


async def test_pull_reads_the_terminals_users_into_the_tenants_people(site: Tm20Site) -> None:
    await site.claim("PPL00005", "Pull door")
    terminal = await site.terminal("PPL00005")
    for enrollid in range(1, 46):  # more than one page of getuserlist
        terminal.add_user(enrollid, f"User {enrollid}", card=1000 + enrollid)
    terminal.add_user(100, "Fingers", fp0="TEMPLATE", password=1234)
    result = await site.manager.people.pull("PPL00005")
    assert result["users"] == 46 and result["failed"] == 0
    person = site.manager.people.find(site.tenant.id, 100)
    assert person is not None and person.name == "Fingers" and person.credentials == {0: "TEMPLATE", 10: "1234"}
    assert site.manager.people.find(site.tenant.id, 7).credentials == {11: "1007"}
    assert str(site.hub.states.get("sensor.pull_door_users").state) == "46"
    assert terminal.disabled is False  # disabledevice ... enabledevice around the bulk read


async def test_a_keypad_enrollment_is_learned(site: Tm20Site) -> None:
    await site.claim("PPL00006")
    terminal = await site.terminal("PPL00006")
    reply = await terminal.send_user(77, 10, 4321, name="Dee")
    assert reply["result"] is True
    person = site.manager.people.find(site.tenant.id, 77)
    assert person is not None and person.name == "Dee" and person.credentials == {10: "4321"}


async def test_qr_codes_and_pins_are_decided_from_credentials(site: Tm20Site) -> None:
    await site.claim("PPL00007")
    await site.manager.people.create(
        site.tenant.id, enrollid=8, name="Eve", credentials=[{"backupnum": 10, "record": 2468}]
    )
    terminal = await site.terminal("PPL00007")
    assert (await terminal.send_pin("2468"))["access"] == 1
    assert (await terminal.send_qrcode("8"))["access"] == 1
    denied = await terminal.send_qrcode("nobody")
    assert denied["access"] == 0
    assert site.of_type("access")[-1]["granted"] is False
