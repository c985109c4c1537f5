"""Tenant isolation, proved over the real HTTP server for EVERY route the application serves.

Two tenants, a school and a bank, each with an owner, a viewer, an API key, a device with an entity and a health
tracker, a config entry and a recorded event. For each route in ``app.router.routes()``, the school's owner
tries the bank's things (path parameters filled with the bank's real ids): the answer is 404, or a list
without any of the bank's things, and nothing of the bank's changes. A route without a case here fails
``test_every_route_is_covered``: a new route cannot ship without saying how it keeps tenants apart.
Platform administrators see both tenants; a held (unclaimed) device is seen by no tenant.

Each tenant also has a TM20 terminal connected through a simulator (a real socket to the hub's TM20
endpoint), a stored log and a person, so the TM20 routes and pages are tried with real data: the bank's
terminal, people and logs are 404 for the school, and no command reaches the bank's terminal.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import voluptuous as vol
from aiohttp import web

from hub.auth.scope import Role
from hub.core import Hub, ServiceCall
from hub.entity import Entity
from hub.hookspecs import hookimpl
from hub.http.pages.notifications import notification_manager
from hub.integration import Integration
from hub.notifications import NotificationManager
from hub.tenants import Tenant
from hub.testing import HubFactory, free_port, wait_for
from hub.testing.http import ADMIN_PASSWORD, ADMIN_USERNAME, ApiClient, SignedInUser, sign_in
from integrations.cameras.runtime import runtime_of
from integrations.detection.boxes import Box
from integrations.detection.event import TrackedEvent
from integrations.detection.media_store import media_key
from integrations.detection.runtime import runtime_of as detection_runtime_of
from integrations.stations.manager import manager_of as stations_manager_of
from integrations.stations.visitors import create_visitor
from integrations.tm20.const import MANUFACTURER as TM20
from integrations.tm20.simulator import TerminalSimulator

PASSWORD = "a long enough password"


def notes(hub: Hub) -> NotificationManager:
    """The hub's notifications (started by the ``notify:`` section)."""
    manager = notification_manager(hub)
    assert manager is not None
    return manager


class Turnstile(Entity):
    domain = "lock"

    def __init__(self, serial: str) -> None:
        self._attr_unique_id = f"{serial}-turnstile"
        self._attr_name = f"Turnstile {serial}"
        self._attr_state = "locked"


class TurnstileIntegration:
    """A config entry kind with a schema, and a service that records its calls."""

    __name__ = "tests.turnstile"

    def __init__(self) -> None:
        self.calls: list[ServiceCall] = []

    @hookimpl
    def integration(self) -> Integration:
        async def setup_entry(hub: Hub, entry: Any) -> None:
            hub.services.register("turnstile", "open", self.calls.append, vol.Schema({}))

        return Integration(
            domain="turnstile",
            name="Turnstile",
            config_entry_schema=vol.Schema({vol.Required("host"): str}),
            async_setup_entry=setup_entry,
        )


@dataclass
class Site:
    """One tenant's things, by what a route's path parameters are called."""

    tenant: Tenant
    owner: SignedInUser
    viewer: SignedInUser
    api_key: str
    key_id: str
    ids: dict[str, str] = field(default_factory=dict)
    event_id: int = 0
    terminal: TerminalSimulator | None = None

    def secrets(self) -> list[str]:
        """Strings that must never appear in the other tenant's answers."""
        return [
            self.tenant.id,
            self.ids["device_id"],
            self.ids["serial"],
            self.ids["entity_id"],
            self.ids["entry_id"],
            self.ids["key"],
            self.viewer.id,
            self.viewer.user.username,
            self.key_id,
            self.ids["sn"],
            self.ids["person_id"],
            self.ids["person_name"],
            self.ids["automation_id"],
            self.ids["run_id"],
            self.ids["notification_id"],
            self.ids["detection_id"],
            *(self.ids[key] for key in STATION_SECRETS),
        ]


@dataclass
class World:
    hub: Hub
    session: aiohttp.ClientSession
    school: Site
    bank: Site
    admin: ApiClient
    held_device_id: str
    integration: TurnstileIntegration

    @property
    def url(self) -> str:
        return self.hub.http.url


async def _site(
    hub: Hub, session: aiohttp.ClientSession, code: str, integration: TurnstileIntegration, tm20_url: str
) -> Site:
    tenant = await hub.tenants.create(code)
    await hub.auth.create_user(f"{code}-owner", PASSWORD, tenant_id=tenant.id, role=Role.OWNER)
    await hub.auth.create_user(f"{code}-viewer", PASSWORD, tenant_id=tenant.id, role=Role.VIEWER)
    owner = await sign_in(hub, session, f"{code}-owner", PASSWORD)
    viewer = await sign_in(hub, session, f"{code}-viewer", PASSWORD)
    key, secret = await hub.auth.create_api_key(f"{code} script", tenant_id=tenant.id, role=Role.ADMIN, created_by=None)
    serial = f"SN-{code.upper()}"
    await hub.devices.claim(tenant.id, "Acme", serial, f"{code} gate")
    device = await hub.devices.connected("Acme", serial)
    entity = await hub.entities.add(Turnstile(serial), platform="turnstile", device=device)
    entry = await hub.config_entries.add("turnstile", {"host": f"{code}.example"}, tenant_id=tenant.id)
    health_key = f"{code}_gate"
    hub.health.track(health_key, f"{code} gate", device_id=device.id, tenant_id=tenant.id).report_success(40.0)
    hub.bus.fire("access_granted", {"device_id": device.id, "person": f"{code} person"}, tenant_id=tenant.id)
    site = Site(tenant, owner, viewer, secret, key.id)
    site.terminal, tm20 = await _tm20_terminal(hub, tenant, code, tm20_url)
    job = runtime_of(hub).scans.start("127.0.0.0/30", tenant_id=tenant.id, ports=[free_port()], time_limit=60)
    site.ids = {
        "device_id": device.id,
        "serial": serial,
        "entity_id": entity.entity_id,
        "entry_id": entry.entry_id,
        "key": health_key,
        "user_id": viewer.id,
        "key_id": key.id,
        "domain": "turnstile",
        "service": "open",
        # Hikvision routes: the bank's door and person numbers; gateway and push token names nobody has here
        "door": "1",
        "employee_no": "1",
        "name": "main",
        "gateway": "main",
        "token": f"{code}-push-token",
        # camera discovery: the tenant's scan job; the manufacturer catalogue is shared
        "job_id": job.id,
        "manufacturer": "hikvision",
        "sequence": "0",  # an HLS segment number
        **tm20,
        **await _automation(hub, tenant, code),
        "path": "gatehouse/device_offline.yaml",  # blueprints are shared
        "webhook_id": f"{code}-gate-webhook",  # automation webhooks: public, the id is the secret
        "detection_id": await _detection_event(hub, tenant, code),
        **await _stations(hub, tenant, code),
    }
    return site


async def _automation(hub: Hub, tenant: Tenant, code: str) -> dict[str, str]:
    """An automation of the tenant, run once: its trace, and the notification the run made."""
    config = {
        "id": f"{code}_lockdown_drill",
        "alias": f"{code} lockdown drill",
        "triggers": [{"trigger": "event", "event_type": f"{code}_drill"}],
        "actions": [{"action": "notify.persistent_notification", "data": {"message": f"{code} drill notice"}}],
    }
    automation = await hub.automations.save(config, tenant_id=tenant.id)
    trace = await hub.automations.trigger(automation.id)
    await wait_for(lambda: len(notes(hub).all(tenant.id)) == 1)
    notification_id = notes(hub).all(tenant.id)[0].id
    return {"automation_id": automation.id, "run_id": trace.run_id, "notification_id": notification_id}


async def _detection_event(hub: Hub, tenant: Tenant, code: str) -> str:
    """A finished detection event of the tenant, with its snapshot and clip in the media store."""
    box = Box(10, 10, 50, 90, "person", 0.9)
    event = TrackedEvent(uuid.uuid4().hex, f"camera.{code}_gate", tenant.id, "person", "1", 1.0e9, 1.0e9 + 2,
                         1.0e9 + 2, 0.9, 0.9, box, [], [], box, None, 1.0e9)  # fmt: skip
    runtime = detection_runtime_of(hub)
    keys = {kind: media_key(tenant.id, event.camera, event.event_id, kind, 1.0e9) for kind in ("snapshot", "clip")}
    for kind, key in keys.items():
        await runtime.media.put(key, f"{code} {kind}".encode(), "image/jpeg")
    await runtime.store.started(event)
    await runtime.store.ended(event, snapshot_key=keys["snapshot"], clean_key=None, clip_key=keys["clip"],
                              media_error=None)  # fmt: skip
    return event.event_id


async def acknowledge_bank_detection(world: World, path: str) -> None:
    await refused("POST")(world, path)
    row = await detection_runtime_of(world.hub).store.get(world.bank.ids["detection_id"])
    assert row is not None and row.acknowledged_at is None


async def _tm20_terminal(hub: Hub, tenant: Tenant, code: str, url: str) -> tuple[TerminalSimulator, dict[str, str]]:
    """A claimed TM20 terminal, connected, with one stored log; and a person of the tenant."""
    sn = f"TM-{code.upper()}-0001"
    await hub.devices.claim(tenant.id, TM20, sn, f"{code} terminal")
    terminal = TerminalSimulator(url, sn, reconnect=False)
    await terminal.start()
    await wait_for(lambda: hub.devices.get_by_serial(TM20, sn).status == "ACTIVE")  # type: ignore[union-attr]
    assert (await terminal.send_logs(terminal.make_logs(1, enrollid=5)))["result"] is True
    name = f"{code} cashier"
    person = await hub.data["tm20"].people.create(tenant.id, enrollid=5, name=name)
    return terminal, {"sn": sn, "person_id": person["id"], "person_name": name}


STATION_SECRETS = (
    "station_id",
    "station_name",
    "station_token",
    "visitor_id",
    "visitor_name",
    "session_id",
    "station_code",
)


async def _stations(hub: Hub, tenant: Tenant, code: str) -> dict[str, str]:
    """A station of the tenant (with its agent token), a visitor with consent, a session waiting with its code,
    and the audit lines they made."""
    manager = stations_manager_of(hub)
    assert manager is not None
    station, token = await manager.create_station(tenant.id, f"{code} PC-01", address=None, actor="setup")
    photo = base64.b64encode(b"\xff\xd8\xff\xe0" + code.encode() * 8).decode()  # a JPEG's signature suffices
    fields = {"last_name": f"{code} visitor", "consent": True, "photo": photo}
    visitor = await create_visitor(manager, tenant.id, fields, actor="x")
    session = await manager.create_session(tenant.id, 30, station_id=station.id, visitor_id=visitor.id, actor="x")
    (log, *_) = await manager.store.logs(tenant.id)
    return {
        "station_id": station.id,
        "station_name": station.name,
        "station_token": token,
        "address": station.id,
        "visitor_id": visitor.id,
        "visitor_name": f"{code} visitor",
        "session_id": session.id,
        "station_code": session.code,
        "log_id": str(log.id),
    }


@pytest.fixture
async def world(hub_factory: HubFactory, api_session: aiohttp.ClientSession) -> AsyncIterator[World]:
    integration = TurnstileIntegration()
    port = free_port()
    config = {"tm20": {"host": "127.0.0.1", "port": port}, "notify": {}, "stations": {}}
    hub = await hub_factory(http=True, plugins=[integration], config=config)
    await hub.auth.onboard(ADMIN_USERNAME, ADMIN_PASSWORD)
    tm20_url = f"ws://127.0.0.1:{port}/ws/tm20/"
    school = await _site(hub, api_session, "school", integration, tm20_url)
    bank = await _site(hub, api_session, "bank", integration, tm20_url)
    held = await hub.devices.connected("Acme", "SN-HELD", name="Held terminal")
    await hub.recorder.commit_barrier()
    records = await _events(hub)
    school.event_id = records[school.tenant.id]
    bank.event_id = records[bank.tenant.id]
    admin = (await sign_in(hub, api_session, ADMIN_USERNAME, ADMIN_PASSWORD)).api
    yield World(hub, api_session, school, bank, admin, held.id, integration)
    for site in (school, bank):
        if site.terminal is not None:
            await site.terminal.close()


async def _events(hub: Hub) -> dict[str, int]:
    from hub.store.history import event_records

    return {
        record.tenant_id: record.id
        for record in await event_records(hub.database, event_type="access_granted")
        if record.tenant_id is not None
    }


def assert_no_leak(site: Site, body: Any, asked: str = "") -> None:
    """None of the site's identifiers is in ``body``, except those the caller sent (``asked``: a 404 echoes them)."""
    text = body if isinstance(body, str) else json.dumps(body)
    for secret in site.secrets():
        if secret not in asked:
            assert secret not in text, f"{secret} leaked: {text[:500]}"


# ------------------------------------------------------------------------------------------------- cases
# Each case: the school's owner (``world.school.owner.api``) tries the bank's things through one route.

Case = Callable[[World, str], Awaitable[None]]


async def listing(world: World, path: str) -> None:
    """A list shows the school's things and none of the bank's."""
    status, body = await world.school.owner.api.get(path)
    assert status == 200, body
    assert_no_leak(world.bank, body)


def refused(method: str, json_body: Any = None, expected: int = 404) -> Case:
    """The bank's thing through this route is 404 (or ``expected``) for the school, in the error shape."""

    async def case(world: World, path: str) -> None:
        status, body = await world.school.owner.api.request(method, path, json=json_body)
        assert status == expected, (method, path, status, body)
        assert set(body) == {"error"}
        assert_no_leak(world.bank, body, asked=path + json.dumps(json_body))

    return case


def public(world_path_check: Callable[[Any], None] | None = None) -> Case:
    async def case(world: World, path: str) -> None:
        status, body = await world.school.owner.api.get(path)
        assert status in (200, 403, 404), (path, status)
        assert_no_leak(world.bank, body)
        if world_path_check is not None:
            world_path_check(body)

    return case


def webhook(method: str) -> Case:
    """An automation webhook is public (its id is the secret): it answers 200 ``{}`` for any id, tells nothing,
    and runs none of the bank's automations."""

    async def case(world: World, path: str) -> None:
        status, body = await world.school.owner.api.request(method, path, json={"door": "bank vault"})
        assert (status, body) == (200, {}), (method, path, status, body)
        assert len(world.hub.automations.traces(world.bank.ids["automation_id"])) == 1

    return case


async def history(world: World, path: str) -> None:
    status, body = await world.school.owner.api.get(path + "?start=0")
    assert status == 200
    assert body == []


async def claim_bank_serial(world: World, path: str) -> None:
    status, body = await world.school.owner.api.post(path, json={"manufacturer": "Acme", "serial_number": "SN-BANK"})
    assert status == 409
    assert_no_leak(world.bank, body, asked="SN-BANK")
    assert world.hub.devices.get(world.bank.ids["device_id"]).tenant_id == world.bank.tenant.id  # type: ignore[union-attr]


async def call_bank_service(world: World, path: str) -> None:
    target = {"entity_id": world.bank.ids["entity_id"]}
    status, body = await world.school.owner.api.post(path, json={"target": target})
    assert status == 404, body
    status, body = await world.school.owner.api.post(path, json={"target": {"device_id": world.bank.ids["device_id"]}})
    assert status == 404, body
    assert world.integration.calls == []


async def events(world: World, path: str) -> None:
    status, body = await world.school.owner.api.get(path)
    assert status == 200
    assert world.school.event_id in {event["id"] for event in body}
    assert {event["tenant_id"] for event in body} == {world.school.tenant.id}
    assert_no_leak(world.bank, body)
    status, body = await world.school.owner.api.get(f"{path}?device_id={world.bank.ids['device_id']}")
    assert (status, body) == (200, [])


async def acknowledge_bank_event(world: World, path: str) -> None:
    await refused("POST")(world, path)
    status, body = await world.bank.owner.api.get("/api/events?acknowledged=true")
    assert (status, body) == (200, [])


async def new_user_in_bank(world: World, path: str) -> None:
    body = {"username": "intruder", "password": PASSWORD, "tenant_id": world.bank.tenant.id}
    await refused("POST", body)(world, path)
    assert world.hub.auth.user_by_username("intruder") is None


async def new_key_in_bank(world: World, path: str) -> None:
    await refused("POST", {"name": "intruder", "tenant_id": world.bank.tenant.id})(world, path)


async def new_entry_in_bank(world: World, path: str) -> None:
    body = {"domain": "turnstile", "data": {"host": "x"}, "tenant_id": world.bank.tenant.id}
    await refused("POST", body)(world, path)


async def me(world: World, path: str) -> None:
    status, body = await world.school.owner.api.get(path)
    assert status == 200
    assert body["tenant"]["id"] == world.school.tenant.id
    assert_no_leak(world.bank, body)


async def own_token(world: World, path: str) -> None:
    status, body = await world.school.owner.api.post(path)
    assert (status, body) == (200, {"access_token": world.school.owner.access_token})


async def login(world: World, path: str) -> None:
    status, body = await world.school.owner.api.post(path, json={"username": "bank-owner", "password": "guess"})
    assert status == 401
    assert_no_leak(world.bank, body)


async def refresh(world: World, path: str) -> None:
    status, body = await world.school.owner.api.post(path, json={"refresh_token": world.school.owner.refresh_token})
    assert status == 200
    assert world.hub.auth.authenticate(body["access_token"]).tenant_id == world.school.tenant.id


async def logout(world: World, path: str) -> None:
    status, _ = await world.school.owner.api.post(path, json={"refresh_token": "not-a-token"})
    assert status == 200


async def onboarding_closed(world: World, path: str) -> None:
    status, body = await world.school.owner.api.get(path)
    assert (status, body) == (200, {"onboarding": False})
    status, body = await world.school.owner.api.post(path, json={"username": "second", "password": PASSWORD})
    assert status == 409


async def metrics(world: World, path: str) -> None:
    status, _ = await world.school.owner.api.get(path)
    assert status == 403  # platform administrators only: hub-wide figures


async def websocket(world: World, path: str) -> None:
    """The WebSocket API authenticates in its protocol; its states are the school's only."""
    async with world.session.ws_connect(world.url + path) as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": world.school.owner.access_token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, "type": "get_states"})
        answer = await ws.receive_json()
    assert answer["success"] is True
    assert world.school.ids["entity_id"] in json.dumps(answer)
    assert_no_leak(world.bank, answer)


async def command_bank_terminal(world: World, path: str) -> None:
    """Neither a door opening nor a destructive command reaches the bank's terminal."""
    await refused("POST", {"command": "opendoor"})(world, path)
    await refused("POST", {"command": "cleanuser", "params": {"confirm": True}})(world, path)
    assert world.bank.terminal is not None and world.bank.terminal.door_openings == 0
    assert all(message.get("cmd") not in ("opendoor", "cleanuser") for message in world.bank.terminal.received)
    assert world.bank.terminal.users == {} or 5 in world.bank.terminal.users  # not wiped


async def claim_hikvision_serial(world: World, path: str) -> None:
    """A Hikvision claim is for the caller's own tenant; acting for another tenant is 404."""
    status, body = await world.school.owner.api.post(path, json={"serial": "HIK-SCHOOL-0001"})
    assert (status, body["tenant_id"], body["status"]) == (201, world.school.tenant.id, "PENDING")
    status, body = await world.school.owner.api.post(path, json={"serial": "HIK-BANK-0001"})
    assert status == 201
    status, body = await world.school.owner.api.post(
        path, json={"serial": "HIK-BANK-0002", "tenant_id": world.bank.tenant.id}
    )
    assert status == 404  # acting for another tenant: it does not exist
    assert_no_leak(world.bank, body, asked="HIK-BANK-0002" + world.bank.tenant.id)


async def new_person_in_bank(world: World, path: str) -> None:
    body = {"enrollid": 99, "name": "intruder", "tenant_id": world.bank.tenant.id}
    await refused("POST", body)(world, path)
    assert world.hub.data["tm20"].people.find(world.bank.tenant.id, 99) is None


async def new_automation_in_bank(world: World, path: str) -> None:
    """An automation written for the bank (its code or id as ``tenant``) is refused as if the bank did not exist."""
    for tenant in (world.bank.tenant.code, world.bank.tenant.id):
        config = {"id": "intruder", "tenant": tenant, "triggers": [], "actions": []}
        await refused("POST", config)(world, path)
    assert world.hub.automations.get("intruder") is None


async def catalogue(world: World, path: str) -> None:
    """The manufacturer catalogue is the same for every tenant: nothing of the bank's in it."""
    status, body = await world.school.owner.api.get(path)
    assert status == 200, body
    assert_no_leak(world.bank, body)


def probe(json_body: Callable[[], Any]) -> Case:
    """Discovery probes act on the address asked (loopback, nothing listening): nothing of the bank's answers."""

    async def case(world: World, path: str) -> None:
        status, body = await world.school.owner.api.post(path, json=json_body())
        assert status == 200, body
        assert_no_leak(world.bank, body)

    return case


async def scan_in_school(world: World, path: str) -> None:
    status, job = await world.school.owner.api.post(path, json={"cidr": "127.0.0.0/30", "ports": [free_port()]})
    assert status == 202, job
    _, jobs = await world.bank.owner.api.get(path)
    assert job["id"] not in {item["id"] for item in jobs}


def new_station_thing_in_bank(path: str) -> Case:
    """A visitor, station or session written for the bank (its tenant id) is refused as if the bank did not exist;
    one bound to the bank's station or visitor is refused naming the field."""
    bodies = {
        "/api/stations/visitors": {"last_name": "intruder", "consent": True},
        "/api/stations/stations": {"name": "intruder PC"},
        "/api/stations/sessions": {"minutes": 30},
    }

    async def case(world: World, path_: str) -> None:
        body = {**bodies[path], "tenant_id": world.bank.tenant.id}
        await refused("POST", body)(world, path)
        if path == "/api/stations/sessions":
            for field in ("station_id", "visitor_id"):
                bound = {"minutes": 30, field: world.bank.ids[field]}
                status, answer = await world.school.owner.api.post(path, json=bound)
                assert status == 400 and list(answer["error"]["fields"]) == [field], answer
                assert_no_leak(world.bank, answer, asked=json.dumps(bound))
        status, listed = await world.bank.owner.api.get(path)
        assert status == 200 and "intruder" not in json.dumps(listed)

    return case


async def validate_bank_code(world: World, path: str) -> None:
    """The bank's code at the bank's station is 404 for the school (the station), and the bank's code at the
    school's station is "invalid or expired" like any wrong code; the bank's session stays waiting."""
    bank_code = world.bank.ids["station_code"]
    await refused("POST", {"code": bank_code, "station_id": world.bank.ids["station_id"]})(world, path)
    body = {"code": bank_code, "station_id": world.school.ids["station_id"]}
    status, answer = await world.school.owner.api.post(path, json=body)
    assert (status, answer["error"]["code"]) == (400, "invalid_code"), answer
    assert_no_leak(world.bank, answer, asked=json.dumps(body))
    status, session = await world.bank.owner.api.get(f"/api/stations/sessions/{world.bank.ids['session_id']}")
    assert (status, session["status"]) == (200, "waiting")


async def bank_station_agent(world: World, path: str) -> None:
    """The school's agent token opens no connection to the bank's station (401 before any upgrade)."""
    for token in (world.school.ids["station_token"], world.school.owner.access_token):
        headers = {"Authorization": f"Bearer {token}"}
        async with world.session.get(world.url + path, headers=headers) as response:
            body = await response.json()
        assert response.status == 401, body
        assert_no_leak(world.bank, body, asked=path)


def refused_page() -> Case:
    """A page of the bank's thing is the 404 page for the school, and names nothing of the bank's."""

    async def case(world: World, path: str) -> None:
        cookies = {"gh_access": world.school.owner.access_token, "gh_refresh": world.school.owner.refresh_token}
        async with aiohttp.ClientSession(cookies=cookies) as browser, browser.get(world.url + path) as response:
            text = await response.text()
        assert response.status == 404, (path, response.status)
        assert_no_leak(world.bank, text, asked=path)

    return case


async def page(world: World, path: str) -> None:
    """Dashboard pages: with the school's session cookies, nothing of the bank's is in the HTML."""
    cookies = {"gh_access": world.school.owner.access_token, "gh_refresh": world.school.owner.refresh_token}
    async with aiohttp.ClientSession(cookies=cookies) as browser, browser.get(world.url + path) as response:
        text = await response.text()
    assert response.status in (200, 302, 303, 403, 404), (path, response.status)
    assert_no_leak(world.bank, text)


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/cameras"): listing,
    ("GET", "/api/cameras/{entity_id}/stats"): refused("GET"),
    ("GET", "/api/camera_proxy/{entity_id}"): refused("GET"),
    ("GET", "/api/camera_proxy_stream/{entity_id}"): refused("GET"),
    ("GET", "/api/hls/{entity_id}/playlist.m3u8"): refused("GET"),
    ("GET", "/api/hls/{entity_id}/init.mp4"): refused("GET"),
    ("GET", "/api/hls/{entity_id}/segment/{sequence}.m4s"): refused("GET"),
    ("GET", "/api/discovery/manufacturers"): catalogue,
    ("GET", "/api/discovery/stream-templates/{manufacturer}"): catalogue,
    ("POST", "/api/discovery/generate-urls"): probe(lambda: {"host": "127.0.0.1", "manufacturer": "hikvision"}),
    ("POST", "/api/discovery/auto-detect"): probe(
        lambda: {
            "host": "127.0.0.1",
            "port": free_port(),
            "http_port": free_port(),
            "onvif_port": free_port(),
            "manufacturer": "dahua",
            "timeout": 1,
        }
    ),
    ("POST", "/api/discovery/batch-test"): probe(
        lambda: {"cameras": [{"url": f"rtsp://127.0.0.1:{free_port()}/x"}], "timeout": 1}
    ),
    ("POST", "/api/discovery/onvif"): probe(lambda: {"address": "127.0.0.1", "port": free_port(), "timeout": 0.2}),
    ("POST", "/api/discovery/scan"): scan_in_school,
    ("GET", "/api/discovery/scan"): listing,
    ("GET", "/api/discovery/scan/{job_id}"): refused("GET"),
    ("DELETE", "/api/discovery/scan/{job_id}"): refused("DELETE"),
    ("GET", "/api/"): public(),
    ("GET", "/api/openapi.json"): public(),
    ("GET", "/api/docs"): public(),
    ("GET", "/api/docs/static"): public(),
    ("GET", "/metrics"): metrics,
    ("GET", "/api/websocket"): websocket,
    # auth
    ("POST", "/api/auth/login"): login,
    ("POST", "/api/auth/refresh"): refresh,
    ("POST", "/api/auth/logout"): logout,
    ("GET", "/api/auth/me"): me,
    ("POST", "/api/auth/ws-token"): own_token,
    ("GET", "/api/onboarding"): onboarding_closed,
    ("POST", "/api/onboarding"): onboarding_closed,
    ("GET", "/api/users"): listing,
    ("POST", "/api/users"): new_user_in_bank,
    ("GET", "/api/users/{user_id}"): refused("GET"),
    ("PATCH", "/api/users/{user_id}"): refused("PATCH", {"role": "owner"}),
    ("DELETE", "/api/users/{user_id}"): refused("DELETE"),
    ("GET", "/api/api_keys"): listing,
    ("POST", "/api/api_keys"): new_key_in_bank,
    ("DELETE", "/api/api_keys/{key_id}"): refused("DELETE"),
    ("GET", "/api/audit"): listing,
    # states
    ("GET", "/api/states"): listing,
    ("GET", "/api/states/{entity_id}"): refused("GET"),
    ("GET", "/api/history/{entity_id}"): history,
    ("GET", "/api/entities"): listing,
    # devices
    ("GET", "/api/devices"): listing,
    ("GET", "/api/devices/{device_id}"): refused("GET"),
    ("POST", "/api/devices/claim"): claim_bank_serial,
    ("POST", "/api/devices/{device_id}/release"): refused("POST"),
    ("PATCH", "/api/devices/{device_id}"): refused("PATCH", {"name": "Mine now"}),
    # services
    ("GET", "/api/services"): listing,
    ("POST", "/api/services/{domain}/{service}"): call_bank_service,
    # events
    ("GET", "/api/events"): events,
    ("POST", "/api/events/{event_id}/acknowledge"): acknowledge_bank_event,
    # config entries
    ("GET", "/api/config_entries"): listing,
    ("POST", "/api/config_entries"): new_entry_in_bank,
    ("DELETE", "/api/config_entries/{entry_id}"): refused("DELETE"),
    ("POST", "/api/config_entries/{entry_id}/reload"): refused("POST"),
    ("GET", "/api/integrations"): listing,
    # health
    ("GET", "/api/health/summary"): listing,
    ("GET", "/api/health/devices"): listing,
    ("POST", "/api/health/devices/{key}/check-now"): refused("POST"),
    ("POST", "/api/health/devices/{key}/reconnect"): refused("POST"),
    # TM20 terminals and people (integrations/tm20/api.py)
    ("GET", "/api/terminals"): listing,
    ("GET", "/api/terminals/connected"): listing,
    ("GET", "/api/terminals/{sn}"): refused("GET"),
    ("PATCH", "/api/terminals/{sn}"): refused("PATCH", {"name": "Mine now", "time_zone": "UTC"}),
    ("POST", "/api/terminals/{sn}/command"): command_bank_terminal,
    ("GET", "/api/terminals/{sn}/users"): refused("GET"),
    ("GET", "/api/terminals/{sn}/logs"): refused("GET"),
    ("GET", "/api/tm20/people"): listing,
    ("POST", "/api/tm20/people"): new_person_in_bank,
    ("PATCH", "/api/tm20/people/{person_id}"): refused("PATCH", {"name": "Mine now", "enabled": False}),
    ("DELETE", "/api/tm20/people/{person_id}"): refused("DELETE"),
    ("GET", "/tm20/{sn}"): refused_page(),
    # Hikvision (integrations/hikvision/api.py and receivers.py); test_api_pages.py tries them on real devices
    ("GET", "/api/hikvision/devices"): listing,
    ("GET", "/api/hikvision/devices/{serial}"): refused("GET"),
    ("GET", "/api/hikvision/devices/{serial}/events"): refused("GET"),
    ("GET", "/api/hikvision/devices/{serial}/people"): refused("GET"),
    ("POST", "/api/hikvision/devices/{serial}/people"): refused("POST", {"employee_no": "1", "name": "intruder"}),
    ("DELETE", "/api/hikvision/devices/{serial}/people/{employee_no}"): refused("DELETE"),
    ("POST", "/api/hikvision/devices/{serial}/doors/{door}"): refused("POST", {"command": "open"}),
    ("POST", "/api/hikvision/devices/{serial}/backfill"): refused("POST"),
    ("POST", "/api/hikvision/claim"): claim_hikvision_serial,
    ("GET", "/api/hikvision/events"): listing,
    ("GET", "/api/hikvision/gateways"): listing,
    ("POST", "/api/hikvision/gateways/{name}/sync"): refused("POST"),
    ("POST", "/api/hikvision/gateways/{name}/devices"): refused("POST", {"ehome_id": "X", "key": "k"}, expected=403),
    ("POST", "/api/hikvision/push/{token}"): refused("POST"),
    ("POST", "/api/hikvision/webhook/{gateway}"): refused("POST"),
    ("GET", "/api/webhook/{webhook_id}"): webhook("GET"),
    ("POST", "/api/webhook/{webhook_id}"): webhook("POST"),
    ("PUT", "/api/webhook/{webhook_id}"): webhook("PUT"),
    # automations, blueprints, notifications (hub/http/api_automations.py, api_blueprints.py, api_notifications.py)
    ("GET", "/api/automations"): listing,
    ("POST", "/api/automations"): new_automation_in_bank,
    ("GET", "/api/automations/{automation_id}"): refused("GET"),
    ("PUT", "/api/automations/{automation_id}"): refused("PUT", {"alias": "Mine now", "triggers": [], "actions": []}),
    ("DELETE", "/api/automations/{automation_id}"): refused("DELETE"),
    ("POST", "/api/automations/{automation_id}/enable"): refused("POST"),
    ("POST", "/api/automations/{automation_id}/disable"): refused("POST"),
    ("POST", "/api/automations/{automation_id}/trigger"): refused("POST", {}),
    ("GET", "/api/automations/{automation_id}/traces"): refused("GET"),
    ("GET", "/api/automations/{automation_id}/traces/{run_id}"): refused("GET"),
    ("POST", "/api/automations/reload"): refused("POST", expected=403),
    ("GET", "/api/automation_errors"): listing,
    ("GET", "/api/blueprints"): catalogue,
    ("GET", "/api/blueprints/{path}"): catalogue,
    ("GET", "/api/notifications"): listing,
    ("POST", "/api/notifications/{notification_id}/dismiss"): refused("POST"),
    ("GET", "/api/notifications/{notification_id}/image"): refused("GET"),
    ("GET", "/automations/{automation_id}"): refused_page(),
    ("GET", "/automations/{automation_id}/traces"): refused_page(),
    # object detection (integrations/detection/api.py, pages.py)
    ("GET", "/api/detection/events"): listing,
    ("GET", "/api/detection/events/{detection_id}"): refused("GET"),
    ("GET", "/api/detection/events/{detection_id}/snapshot.jpg"): refused("GET"),
    ("GET", "/api/detection/events/{detection_id}/clip.mp4"): refused("GET"),
    ("POST", "/api/detection/events/{detection_id}/acknowledge"): acknowledge_bank_detection,
    ("GET", "/api/detection/stats"): listing,
    ("GET", "/api/detection/system"): listing,
    ("GET", "/detection/events/{detection_id}"): refused_page(),
    # public computer stations (integrations/stations/api.py, agent_ws.py, pages.py)
    ("GET", "/api/stations/visitors"): listing,
    ("POST", "/api/stations/visitors"): new_station_thing_in_bank("/api/stations/visitors"),
    ("GET", "/api/stations/visitors/{visitor_id}"): refused("GET"),
    ("PUT", "/api/stations/visitors/{visitor_id}"): refused("PUT", {"last_name": "Mine now"}),
    ("DELETE", "/api/stations/visitors/{visitor_id}"): refused("DELETE"),
    ("GET", "/api/stations/visitors/{visitor_id}/photo"): refused("GET"),
    ("GET", "/api/stations/stations"): listing,
    ("POST", "/api/stations/stations"): new_station_thing_in_bank("/api/stations/stations"),
    ("GET", "/api/stations/stations/{station_id}"): refused("GET"),
    ("PUT", "/api/stations/stations/{station_id}"): refused("PUT", {"name": "Mine now"}),
    ("DELETE", "/api/stations/stations/{station_id}"): refused("DELETE"),
    ("PUT", "/api/stations/stations/{station_id}/status"): refused("PUT", {"status": "maintenance"}),
    ("POST", "/api/stations/stations/{station_id}/token"): refused("POST"),
    ("GET", "/api/stations/sessions"): listing,
    ("POST", "/api/stations/sessions"): new_station_thing_in_bank("/api/stations/sessions"),
    ("GET", "/api/stations/sessions/{session_id}"): refused("GET"),
    ("POST", "/api/stations/sessions/validate-code"): validate_bank_code,
    ("POST", "/api/stations/sessions/{session_id}/add-time"): refused("POST", {"minutes": 60}),
    ("POST", "/api/stations/sessions/{session_id}/terminate"): refused("POST"),
    ("GET", "/api/stations/logs"): listing,
    ("GET", "/api/stations/logs/{log_id}"): refused("GET"),
    ("GET", "/ws/station/{address}"): bank_station_agent,
    ("GET", "/stations/sessions/{session_id}"): refused_page(),
}


def served(app: web.Application) -> set[tuple[str, str]]:
    """(method, canonical path) of every route; HEAD goes with its GET."""
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


def fill(path: str, site: Site) -> str:
    """The path with each ``{parameter}`` replaced by the site's real id of that name."""
    import re

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "event_id":
            return str(site.event_id)
        assert name in site.ids, f"no id for path parameter {name!r} of {path}: add it to _site()"
        return site.ids[name]

    return re.sub(r"\{(\w+)(?::[^}]*)?\}", value, path)


def case_for(method: str, path: str) -> Case | None:
    case = CASES.get((method, path))
    if case is None and method == "GET" and not path.startswith("/api/") and path != "/metrics":
        return page  # a dashboard page or static files: checked for leaks generically
    return case


async def test_every_route_is_covered(world: World) -> None:
    missing = sorted(route for route in served(world.hub.http.app) if case_for(*route) is None)
    assert missing == [], f"routes without a tenant-isolation case: {missing}"


async def test_a_tenant_reaches_none_of_the_other_tenants_things(world: World) -> None:
    checked = []
    for method, path in sorted(served(world.hub.http.app)):
        case = case_for(method, path)
        assert case is not None
        await case(world, fill(path, world.bank))
        checked.append((method, path))
    assert ("GET", "/api/devices/{device_id}") in checked

    # And nothing of the bank's changed.
    bank_device = world.hub.devices.get(world.bank.ids["device_id"])
    assert bank_device is not None and bank_device.tenant_id == world.bank.tenant.id
    assert bank_device.name == "bank gate"
    assert world.hub.config_entries.get(world.bank.ids["entry_id"]) is not None
    assert world.hub.auth.user(world.bank.viewer.id) is not None
    assert world.hub.auth.api_key(world.bank.key_id).revoked_at is None  # type: ignore[union-attr]
    assert world.hub.auth.authenticate(world.bank.api_key).tenant_id == world.bank.tenant.id
    bank_person = world.hub.data["tm20"].people.find(world.bank.tenant.id, 5)
    assert bank_person is not None and bank_person.name == "bank cashier" and bank_person.enabled
    assert world.hub.devices.get_by_serial(TM20, world.bank.ids["sn"]).name == "bank terminal"  # type: ignore[union-attr]
    bank_automation = world.hub.automations.get(world.bank.ids["automation_id"])
    assert bank_automation is not None and bank_automation.enabled and bank_automation.alias == "bank lockdown drill"
    assert len(world.hub.automations.traces(bank_automation.id)) == 1  # never run by the school
    bank_notifications = notes(world.hub).all(world.bank.tenant.id)
    assert [item.id for item in bank_notifications] == [world.bank.ids["notification_id"]]


async def test_the_same_holds_for_an_api_key(world: World) -> None:
    api = world.school.owner.api.with_token(world.school.api_key)
    for path in ("/api/states", "/api/devices", "/api/config_entries", "/api/users", "/api/api_keys", "/api/events"):
        status, body = await api.get(path)
        assert status == 200
        assert_no_leak(world.bank, body)
    status, _ = await api.get(f"/api/devices/{world.bank.ids['device_id']}")
    assert status == 404


async def test_a_platform_administrator_sees_both_tenants(world: World) -> None:
    _, devices = await world.admin.get("/api/devices")
    _, states = await world.admin.get("/api/states")
    _, entries = await world.admin.get("/api/config_entries")
    _, events = await world.admin.get("/api/events?type=access_granted")

    device_ids = {device["id"] for device in devices}
    assert {world.school.ids["device_id"], world.bank.ids["device_id"], world.held_device_id} <= device_ids
    assert {world.school.ids["entity_id"], world.bank.ids["entity_id"]} <= {state["entity_id"] for state in states}
    assert {entry["entry_id"] for entry in entries} == {world.school.ids["entry_id"], world.bank.ids["entry_id"]}
    assert {event["id"] for event in events} == {world.school.event_id, world.bank.event_id}
    status, _ = await world.admin.get(f"/api/devices/{world.bank.ids['device_id']}")
    assert status == 200
    _, terminals = await world.admin.get("/api/terminals")
    assert {world.school.ids["sn"], world.bank.ids["sn"]} <= {terminal["sn"] for terminal in terminals}
    _, people = await world.admin.get("/api/tm20/people")
    assert {world.school.ids["person_id"], world.bank.ids["person_id"]} == {person["id"] for person in people}
    _, detections = await world.admin.get("/api/detection/events")
    assert {world.school.ids["detection_id"], world.bank.ids["detection_id"]} == {
        event["id"] for event in detections["events"]
    }


async def test_a_held_device_is_seen_by_no_tenant(world: World) -> None:
    for site in (world.school, world.bank):
        _, devices = await site.owner.api.get("/api/devices")
        assert world.held_device_id not in {device["id"] for device in devices}
        status, _ = await site.owner.api.get(f"/api/devices/{world.held_device_id}")
        assert status == 404
    status, body = await world.admin.get(f"/api/devices/{world.held_device_id}")
    assert status == 200
    assert body["tenant_id"] is None
