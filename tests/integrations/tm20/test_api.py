"""The TM20 REST API over the whole path: a real hub with its TM20 endpoint, a simulated terminal speaking the
protocol over a real socket, and HTTP requests. Opening the door over REST reaches the simulator; logs it
sends come back through the logs route; a command to an offline terminal or one that stays silent fails in the
API's error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from hub.auth.scope import Role
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory, free_port, wait_for
from hub.testing.http import ApiClient, UserFactory, assert_error
from integrations.tm20.const import MANUFACTURER
from integrations.tm20.simulator import TerminalSimulator

SN = "ZX0006827500"


@dataclass
class Site:
    hub: Hub
    tenant: Tenant
    url: str  # the TM20 endpoint
    admin: ApiClient
    operator: ApiClient
    viewer: ApiClient
    terminal: TerminalSimulator


@pytest.fixture
async def site(hub_factory: HubFactory, make_user: UserFactory) -> AsyncIterator[Site]:
    port = free_port()
    hub = await hub_factory(
        http=True, config={"tm20": {"host": "127.0.0.1", "port": port, "command_timeout": 2, "time_zone": "UTC"}}
    )
    tenant = await hub.tenants.create("school", "Lakeside School")
    await hub.devices.claim(tenant.id, MANUFACTURER, SN, "Front gate")
    url = f"ws://127.0.0.1:{port}/ws/tm20/"
    terminal = TerminalSimulator(url, SN, reconnect=False)
    terminal.add_user(7, "Ana Ruiz", card=2352253)
    await terminal.start()
    await wait_for(lambda: hub.devices.get_by_serial(MANUFACTURER, SN).status == "ACTIVE")  # type: ignore[union-attr]
    admin = (await make_user(hub, tenant, Role.ADMIN)).api
    operator = (await make_user(hub, tenant, Role.OPERATOR)).api
    viewer = (await make_user(hub, tenant, Role.VIEWER)).api
    yield Site(hub, tenant, url, admin, operator, viewer, terminal)
    await terminal.close()


async def test_the_list_shows_the_terminal_connected(site: Site) -> None:
    status, body = await site.viewer.get("/api/terminals")
    assert status == 200
    (terminal,) = body
    assert terminal["sn"] == SN and terminal["name"] == "Front gate"
    assert terminal["connected"] is True and terminal["status"] == "ACTIVE"
    assert terminal["tenant_id"] == site.tenant.id
    assert terminal["model"] == "tfs30" and terminal["last_seen"] is not None

    status, connected = await site.viewer.get("/api/terminals/connected")
    assert status == 200 and [item["sn"] for item in connected] == [SN]
    assert connected[0]["remote_address"].startswith("127.0.0.1")


async def test_the_detail_has_devinfo_and_an_unknown_serial_is_404(site: Site) -> None:
    status, body = await site.viewer.get(f"/api/terminals/{SN}")
    assert status == 200
    assert body["devinfo"]["modelname"] == "tfs30"
    assert body["first_seen"] is not None
    status, body = await site.viewer.get("/api/terminals/NOPE123")
    assert status == 404
    assert_error(body, "terminal_not_found")


async def test_open_door_over_rest_reaches_the_terminal(site: Site) -> None:
    status, body = await site.operator.post(f"/api/terminals/{SN}/command", json={"command": "opendoor"})
    assert status == 200, body
    assert body["sn"] == SN and body["command"] == "opendoor"
    assert site.terminal.door_openings == 1

    status, body = await site.operator.post(
        f"/api/terminals/{SN}/command", json={"command": "opendoor", "params": {"doornum": 2}}
    )
    assert status == 200, body
    assert (site.terminal.door_openings, site.terminal.last_doornum) == (2, 2)

    entries = await site.hub.auth.audit.entries(tenant_id=site.tenant.id, action="tm20.command")
    assert [entry.target for entry in entries] == [SN, SN]


async def test_a_command_answers_the_terminals_reply(site: Site) -> None:
    status, body = await site.operator.post(
        f"/api/terminals/{SN}/command", json={"command": "getusername", "params": {"enrollid": 7}}
    )
    assert status == 200, body
    assert body["reply"]["record"] == "Ana Ruiz"


async def test_a_viewer_cannot_send_commands(site: Site) -> None:
    status, _ = await site.viewer.post(f"/api/terminals/{SN}/command", json={"command": "opendoor"})
    assert status == 403
    assert site.terminal.door_openings == 0


async def test_bad_commands_and_params_are_400_naming_the_field(site: Site) -> None:
    status, body = await site.operator.post(f"/api/terminals/{SN}/command", json={"command": "selfdestruct"})
    assert status == 400
    assert "command" in body["error"]["fields"]
    status, body = await site.operator.post(
        f"/api/terminals/{SN}/command", json={"command": "opendoor", "params": {"doornum": 9}}
    )
    assert status == 400, body
    assert site.terminal.door_openings == 0


async def test_destructive_commands_need_an_admin_and_a_confirmation(site: Site) -> None:
    path = f"/api/terminals/{SN}/command"
    status, _ = await site.operator.post(path, json={"command": "cleanuser", "params": {"confirm": True}})
    assert status == 403
    status, body = await site.admin.post(path, json={"command": "cleanuser"})
    assert status == 400
    assert_error(body, "confirmation_required", {"params.confirm": "required: true"})
    assert 7 in site.terminal.users

    status, body = await site.admin.post(path, json={"command": "cleanuser", "params": {"confirm": True}})
    assert status == 200, body
    assert site.terminal.users == {}


async def test_an_offline_terminal_is_409(site: Site) -> None:
    await site.terminal.close()
    await wait_for(lambda: site.hub.devices.get_by_serial(MANUFACTURER, SN).status == "OFFLINE")  # type: ignore[union-attr]
    status, body = await site.operator.post(f"/api/terminals/{SN}/command", json={"command": "opendoor"})
    assert status == 409, body
    assert_error(body, "terminal_offline")
    _, listed = await site.viewer.get("/api/terminals")
    assert listed[0]["connected"] is False
    assert (await site.viewer.get("/api/terminals/connected")) == (200, [])


async def test_logs_come_back_newest_first_with_filters_and_paging(site: Site) -> None:
    records = site.terminal.make_logs(5, mode=3)
    records[0]["enrollid"] = 7
    ack = await site.terminal.send_logs(records)
    assert ack["result"] is True

    status, logs = await site.viewer.get(f"/api/terminals/{SN}/logs")
    assert status == 200
    assert len(logs) == 5
    assert [log["id"] for log in logs] == sorted((log["id"] for log in logs), reverse=True)
    assert logs[-1]["enrollid"] == 7 and logs[-1]["person"] is None  # not one of the tenant's people (yet)
    assert logs[0]["method"] == "card" and logs[0]["direction"] == "in"
    assert logs[0]["raw"]["mode"] == 3

    status, page = await site.viewer.get(f"/api/terminals/{SN}/logs?limit=2")
    assert [log["id"] for log in page] == [log["id"] for log in logs[:2]]
    status, page = await site.viewer.get(f"/api/terminals/{SN}/logs?limit=2&before_id={page[-1]['id']}")
    assert [log["id"] for log in page] == [log["id"] for log in logs[2:4]]

    status, only = await site.viewer.get(f"/api/terminals/{SN}/logs?enrollid=7")
    assert [log["enrollid"] for log in only] == [7]
    status, none = await site.viewer.get(f"/api/terminals/{SN}/logs?start=2999-01-01T00:00:00Z")
    assert (status, none) == (200, [])
    status, body = await site.viewer.get(f"/api/terminals/{SN}/logs?limit=0")
    assert status == 400 and "limit" in body["error"]["fields"]


async def test_patch_renames_and_sets_the_time_zone(site: Site) -> None:
    path = f"/api/terminals/{SN}"
    assert (await site.operator.patch(path, json={"name": "Nope"}))[0] == 403
    status, body = await site.admin.patch(path, json={"time_zone": "Mars/Olympus"})
    assert status == 400 and "time_zone" in body["error"]["fields"]

    status, body = await site.admin.patch(path, json={"name": "Main entrance", "time_zone": "Europe/Paris"})
    assert status == 200, body
    assert body["name"] == "Main entrance" and body["time_zone"] == "Europe/Paris"
    assert site.hub.devices.get_by_serial(MANUFACTURER, SN).name == "Main entrance"  # type: ignore[union-attr]


async def test_people_are_created_pushed_changed_and_deleted(site: Site) -> None:
    body = {"enrollid": 42, "name": "Léa Martin", "credentials": [{"backupnum": 11, "record": 998877}]}
    assert (await site.operator.post("/api/tm20/people", json=body))[0] == 403
    status, person = await site.admin.post("/api/tm20/people", json=body)
    assert status == 201, person
    assert person["enrollid"] == 42 and person["tenant_id"] == site.tenant.id
    assert "998877" not in str(person)  # credentials are listed by kind, never by value
    await wait_for(lambda: 42 in site.terminal.users and site.terminal.users[42].name == "Léa Martin")
    assert site.terminal.users[42].credentials.get(11) in (998877, "998877")

    status, people = await site.viewer.get("/api/tm20/people")
    assert status == 200 and [item["enrollid"] for item in people] == [42]

    status, person = await site.admin.patch(f"/api/tm20/people/{person['id']}", json={"name": "Léa Dupont"})
    assert status == 200 and person["name"] == "Léa Dupont"
    await wait_for(lambda: site.terminal.users[42].name == "Léa Dupont")

    status, users = await site.viewer.get(f"/api/terminals/{SN}/users")
    assert status == 200
    assert [item["enrollid"] for item in users["people"]] == [42]

    status, _ = await site.admin.delete(f"/api/tm20/people/{person['id']}")
    assert status == 200
    await wait_for(lambda: 42 not in site.terminal.users)
    assert (await site.admin.delete(f"/api/tm20/people/{person['id']}"))[0] == 404


async def test_the_routes_are_in_the_openapi_document(site: Site) -> None:
    status, document = await site.viewer.get("/api/openapi.json")
    assert status == 200
    assert {"/api/terminals", "/api/terminals/{sn}/command", "/api/tm20/people/{person_id}"} <= set(document["paths"])
