"""ISUP devices behind a Hik Device Gateway, end to end against the gateway simulator (real Digest, deviceList,
passthrough by devIndex, subscribeDeviceMgmt, signed webhooks): the claim flow PENDING -> ACTIVE -> OFFLINE,
events through the subscription, the backfill through the passthrough, and webhooks refused when forged or
replayed later than 5 minutes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from hub.auth.scope import Role
from hub.device_registry import DeviceStatus
from hub.health import HealthLevel
from hub.testing import free_port, wait_for
from hub.testing.http import UserFactory
from integrations.hikvision.simulator import GatewaySimulator, IsapiDeviceSimulator

from .conftest import WEBHOOK_SECRET, HikSite, SiteFactory

SERIAL = "DS-K1T671M0005"


@dataclass
class GatewaySite:
    site: HikSite
    gateway: GatewaySimulator

    async def device(self, serial: str, *, online: bool = True, **kwargs: object) -> tuple[IsapiDeviceSimulator, str]:
        """A simulated ISUP device registered to the gateway with its serial as EhomeID; returns its devIndex."""
        simulator = await self.site.device_sim(serial, **kwargs)
        return simulator, self.gateway.add_simulated_device(simulator, serial, online=online)


GatewayFactory = Callable[..., Awaitable[GatewaySite]]


@pytest.fixture
async def gateway_site_factory(hik_site_factory: SiteFactory) -> GatewayFactory:
    async def start(*, password: str | None = None, heartbeat: float = 10.0) -> GatewaySite:
        gateway = GatewaySimulator(port=free_port(), heartbeat_interval=heartbeat, webhook_secret=WEBHOOK_SECRET)
        await gateway.start()
        section = {
            "gateways": [
                {
                    "name": "main",
                    "url": gateway.url,
                    "username": gateway.username,
                    "password": password or gateway.password,
                    "sync_interval": 30,
                    "webhook_secret": WEBHOOK_SECRET,
                }
            ]
        }
        site = await hik_site_factory(hikvision=section, fast_health=False)  # the gateway is tracked at start
        site.simulators.append(gateway)
        gateway.webhook_url = f"{site.hub.http.url}/api/hikvision/webhook/main"
        return GatewaySite(site, gateway)

    return start


@pytest.fixture
async def gw(gateway_site_factory: GatewayFactory) -> GatewaySite:
    return await gateway_site_factory()


async def sync(site: HikSite) -> dict[str, object]:
    status, view = await site.admin.post("/api/hikvision/gateways/main/sync")
    assert status == 200, view
    return dict(view)


async def test_a_claimed_serial_becomes_active_when_the_gateway_lists_it(gw: GatewaySite) -> None:
    site = gw.site
    status, claimed = await site.admin.post("/api/hikvision/claim", {"serial": SERIAL, "tenant_id": site.tenant.id})
    assert (status, claimed["status"]) == (201, "PENDING")
    await sync(site)
    assert site.device(SERIAL).status is DeviceStatus.PENDING  # not on the gateway yet

    simulator, dev_index = await gw.device(SERIAL, kind="access")
    view = await sync(site)

    device = site.device(SERIAL)
    assert (device.status, device.tenant_id, device.model) == (DeviceStatus.ACTIVE, site.tenant.id, "DS-K1T671M")
    assert view["devices"] == 1 and view["online"] == 1
    await wait_for(lambda: site.hub.states.get("lock.hikvision_ds_k1t671m0005_door_1") is not None)
    status, detail = await site.admin.get(f"/api/hikvision/devices/{SERIAL}")
    assert (detail["connection"], detail["gateway"], detail["dev_index"]) == ("gateway", "main", dev_index)

    # Events of the device arrive through the gateway's subscription, tagged with its devIndex.
    await wait_for(lambda: site.manager.gateways["main"].subscribed, timeout=10)
    serial_no = simulator.emit_access(5, 75, employee_no="21", name="Hedy")
    await wait_for(lambda: len(site.access(SERIAL)) == 1)
    (event,) = site.access(SERIAL)
    assert (event["serial_no"], event["source"], event["person"], event["device_id"]) == (
        serial_no,
        "gateway",
        "Hedy",
        device.id,
    )


async def test_offline_on_the_gateway_then_back_with_the_history_read_through_it(gw: GatewaySite) -> None:
    site = gw.site
    await site.admin.post("/api/hikvision/claim", {"serial": SERIAL, "tenant_id": site.tenant.id})
    simulator, dev_index = await gw.device(SERIAL, kind="access")
    await sync(site)
    await wait_for(lambda: site.manager.devices[SERIAL].available)

    gw.gateway.webhook_url = None  # this test follows the sync alone
    gw.gateway.set_online(dev_index, False)
    await sync(site)
    assert site.device(SERIAL).status is DeviceStatus.OFFLINE
    health = site.hub.health.get("hikvision_ds_k1t671m0005")
    assert health is not None and health.level is HealthLevel.OFFLINE and health.tenant_id == site.tenant.id

    missed = [simulator.record_offline_access(5, 1, employee_no=str(n), card_no=f"7{n}") for n in range(4)]
    gw.gateway.set_online(dev_index, True)
    await sync(site)

    assert site.device(SERIAL).status is DeviceStatus.ACTIVE
    await wait_for(lambda: len(site.access(SERIAL)) == 4, timeout=10)
    assert [e["serial_no"] for e in site.access(SERIAL)] == missed
    assert {e["source"] for e in site.access(SERIAL)} == {"backfill"}


async def test_a_signed_webhook_applies_a_status_change_at_once(gw: GatewaySite) -> None:
    site = gw.site
    await site.admin.post("/api/hikvision/claim", {"serial": SERIAL, "tenant_id": site.tenant.id})
    _, dev_index = await gw.device(SERIAL, kind="access")
    await sync(site)
    gateway = site.manager.gateways["main"]
    syncs, accepted = gateway.syncs, gateway.webhooks_accepted

    gw.gateway.set_online(dev_index, False)  # the gateway side posts {"eventType": "deviceStatus", "Device": ...}
    await wait_for(lambda: site.device(SERIAL).status is DeviceStatus.OFFLINE)
    assert gw.gateway.webhook_statuses[-1] == 200
    assert gateway.syncs == syncs  # applied from the webhook alone

    gw.gateway.set_online(dev_index, True)
    await wait_for(lambda: site.device(SERIAL).status is DeviceStatus.ACTIVE)
    assert gateway.webhooks_accepted == accepted + 2

    # Without devices it asks for a full sync.
    assert await gw.gateway.send_webhook({"eventType": "sync"}) == 200
    assert gateway.syncs == syncs + 1


async def test_forged_and_stale_webhooks_are_refused(gw: GatewaySite, caplog: pytest.LogCaptureFixture) -> None:
    gateway = gw.gateway
    payload = {"eventType": "sync"}

    assert await gateway.send_webhook(payload, secret="not the shared secret") == 401
    assert await gateway.send_webhook(payload, timestamp=int(time.time()) - 301) == 401  # a replay, 5 min later
    assert await gateway.send_webhook(payload, timestamp=int(time.time()) + 400) == 401  # a clock far ahead
    assert await gateway.send_webhook(payload, timestamp=int(time.time()) - 200) == 200  # late, but in time

    url = f"{gw.site.hub.http.url}/api/hikvision/webhook/main"
    async with gw.site.session.post(url, data=b"{}") as response:  # no signature at all
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "bad_signature"
    async with gw.site.session.post(f"{gw.site.hub.http.url}/api/hikvision/webhook/other", data=b"{}") as response:
        assert response.status == 404
    refusals = [r.getMessage() for r in caplog.records if "webhook refused" in r.getMessage()]
    assert len(refusals) == 3  # one line per distinct reason (too old and too new are one: "away from now")
    assert gw.site.manager.gateways["main"].webhooks_accepted == 1


async def test_doors_and_people_through_the_passthrough(gw: GatewaySite, make_user: UserFactory) -> None:
    site = gw.site
    await site.admin.post("/api/hikvision/claim", {"serial": SERIAL, "tenant_id": site.tenant.id})
    simulator, _ = await gw.device(SERIAL, kind="access")
    await sync(site)
    await wait_for(lambda: site.manager.devices[SERIAL].locks)
    operator = await make_user(site.hub, site.tenant, Role.OPERATOR)

    status, answer = await operator.api.post(f"/api/hikvision/devices/{SERIAL}/doors/1", {"command": "alwaysOpen"})

    assert (status, answer["state"]) == (200, "unlocked")
    assert simulator.access.doors[0].mode == "alwaysOpen"
    person = {"employee_no": "31", "name": "Katherine", "cards": ["1234567890"]}
    status, pushed = await site.admin.post(f"/api/hikvision/devices/{SERIAL}/people", person)
    assert (status, pushed["user"], pushed["cards_added"]) == (200, "added", ["1234567890"])
    status, people = await site.admin.get(f"/api/hikvision/devices/{SERIAL}/people")
    assert [(p["employee_no"], p["name"], p["cards"]) for p in people] == [("31", "Katherine", ["1234567890"])]


async def test_add_a_device_to_the_gateway(gw: GatewaySite, make_user: UserFactory) -> None:
    site = gw.site
    status, answer = await site.admin.post(
        "/api/hikvision/gateways/main/devices", {"ehome_id": "FN2090414", "key": "hik12345", "name": "Lobby"}
    )
    assert status == 201
    assert gw.gateway.devices[answer["dev_index"]].ehome_id == "FN2090414"

    tenant_admin = await make_user(site.hub, site.tenant, Role.ADMIN)
    status, _ = await tenant_admin.api.post("/api/hikvision/gateways/main/devices", {"ehome_id": "X1", "key": "k"})
    assert status == 403  # the gateway is the platform's

    result = await site.hub.services.call(
        "hikvision", "add_to_gateway", {"gateway": "main", "ehome_id": "FN2090415", "key": "hik12345"}
    )
    assert result["dev_index"] in gw.gateway.devices


async def test_a_refused_gateway_password_is_auth_failed_and_not_retried(
    gateway_site_factory: GatewayFactory,
) -> None:
    gw = await gateway_site_factory(password="wrong")
    health = gw.site.hub.health.get("hikvision_gateway_main")
    assert health is not None
    await wait_for(lambda: health.level is HealthLevel.AUTH_FAILED)
    attempts = gw.gateway.auth.failed_attempts

    await asyncio.sleep(1.0)

    assert gw.gateway.auth.failed_attempts == attempts <= 2
    assert gw.site.manager.gateways["main"].subscribed is False
    status, views = await gw.site.admin.get("/api/hikvision/gateways")
    assert (status, views[0]["level"]) == (200, "auth_failed")


async def test_a_device_seen_before_its_claim_is_held_then_moves_to_the_tenant(gw: GatewaySite) -> None:
    site = gw.site
    await gw.device(SERIAL, kind="access")
    await sync(site)

    held = site.device(SERIAL)
    assert (held.status, held.tenant_id) == (DeviceStatus.ACTIVE, None)  # platform administrators only
    status, listed = await site.admin.get("/api/hikvision/devices")
    assert [view["serial"] for view in listed] == [SERIAL]
    device = site.manager.devices[SERIAL]
    await wait_for(lambda: device.record.doors == 1)  # what it is was read through the passthrough
    assert device.locks == {} and site.hub.states.all("lock") == []  # no entities while held

    status, claimed = await site.admin.post("/api/hikvision/claim", {"serial": SERIAL, "tenant_id": site.tenant.id})

    assert (status, claimed["status"]) == (201, "ACTIVE")
    await wait_for(lambda: len(site.hub.states.all("lock")) == 1)
    lock = site.hub.states.get(device.locks[1].entity_id)
    assert lock is not None and lock.tenant_id == site.tenant.id and lock.state == "locked"
    health = site.hub.health.get("hikvision_ds_k1t671m0005")
    assert health is not None and health.tenant_id == site.tenant.id and health.connected
