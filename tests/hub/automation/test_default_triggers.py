"""The Gatehouse trigger types (``access``, ``detection``, ``device``) on a real hub: automations.yaml loaded by
the engine, events fired on the bus as terminals, detectors and the health monitor fire them, service calls
recorded (``calls``, ``load`` from conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from hub.access import EVENT_ACCESS, AccessEventData
from hub.automation.errors import AutomationError
from hub.core import Hub
from hub.detection import EVENT_DETECTION
from hub.tenants import Tenant
from hub.testing import wait_for

from .conftest import Calls

Load = Callable[[str], Coroutine[Any, Any, list[AutomationError]]]

RECORD = """
          actions:
            - action: test.record
              data:
                id: "{{ trigger.id }}"
                platform: "{{ trigger.platform }}"
                description: "{{ trigger.description }}"
"""


def access(
    hub: Hub, tenant: Tenant, person: str | None, *, device: str = "dev1", granted: bool = True, **extra: Any
) -> None:
    data: AccessEventData = {"device_id": device, "person": person, "method": "face", "granted": granted,
                             "direction": "in", "time": "2026-11-21T08:00:00+01:00"}  # fmt: skip
    hub.bus.fire(EVENT_ACCESS, {**data, **extra}, tenant_id=tenant.id)


def detection(hub: Hub, tenant: Tenant, **data: Any) -> None:
    hub.bus.fire(EVENT_DETECTION, {"camera": "camera.gate", "label": "person", "confidence": 0.9, "zones": [],
                                   "type": "start", **data}, tenant_id=tenant.id)  # fmt: skip


def marker(hub: Hub, tenant: Tenant) -> None:
    """An event a catch-all automation records last: once it is recorded, everything fired before was handled."""
    hub.bus.fire("marker", {}, tenant_id=tenant.id)


MARKER = """
        - id: marker
          tenant: acme
          triggers: [{trigger: event, event_type: marker}]
          actions: [{action: test.record, data: {id: marker}}]
"""


async def settle(hub: Hub, tenant: Tenant, calls: Calls) -> list[dict[str, object]]:
    """The calls recorded before the marker (trigger handling is in order on the bus)."""
    marker(hub, tenant)
    await wait_for(lambda: any(call.data.get("id") == "marker" for call in calls))
    return [data for data in calls.data() if data["id"] != "marker"]


# ---------------------------------------------------------------------------------------------- access


async def test_access_fires_on_matching_scans_only(hub: Hub, tenant: Tenant, calls: Calls, load: Load) -> None:
    errors = await load(
        """
        - id: staff_in
          tenant: acme
          mode: queued
          triggers:
            - trigger: access
              id: staff
              device_id: dev1
              person: [Alice, bob]
              granted: true
              direction: in
          actions:
            - action: test.record
              data:
                id: "{{ trigger.id }}"
                platform: "{{ trigger.platform }}"
                person: "{{ trigger.person }}"
                method: "{{ trigger.method }}"
                door: "{{ trigger.door }}"
                description: "{{ trigger.description }}"
                sn: "{{ trigger.event.data.sn }}"
        """
        + MARKER
    )
    assert errors == []

    access(hub, tenant, "Alice", door="main", sn="TM-1")
    access(hub, tenant, "Bob")  # names match whatever their case
    access(hub, tenant, "Carol")  # not listed
    access(hub, tenant, "Alice", granted=False)
    access(hub, tenant, "Alice", device="dev2")
    access(hub, tenant, "Alice", direction="out")

    assert await settle(hub, tenant, calls) == [
        {"id": "staff", "platform": "access", "person": "Alice", "method": "face", "door": "main",
         "description": "access granted to Alice", "sn": "TM-1"},
        {"id": "staff", "platform": "access", "person": "Bob", "method": "face", "door": None,
         "description": "access granted to Bob", "sn": ""},
    ]  # fmt: skip


async def test_access_person_null_means_nobody_recognised(hub: Hub, tenant: Tenant, calls: Calls, load: Load) -> None:
    errors = await load(
        """
        - id: unknown
          tenant: acme
          mode: queued
          triggers: [{trigger: access, person: null, granted: false, device_id: []}]
        """
        + RECORD
        + MARKER
    )
    assert errors == []

    access(hub, tenant, None, granted=False)
    access(hub, tenant, "", granted=False, device="dev7")
    access(hub, tenant, "Alice", granted=False)
    access(hub, tenant, None, granted=True)

    assert await settle(hub, tenant, calls) == [
        {"id": 0, "platform": "access", "description": "access denied to an unknown person"},
        {"id": 0, "platform": "access", "description": "access denied to an unknown person"},
    ]


async def test_access_filters_on_method_and_person_id(hub: Hub, tenant: Tenant, calls: Calls, load: Load) -> None:
    errors = await load(
        """
        - id: cards
          tenant: acme
          mode: queued
          triggers: [{trigger: access, method: [card, QR], person_id: "42"}]
        """
        + RECORD
        + MARKER
    )
    assert errors == []

    access(hub, tenant, "Alice", method="card", person_id="42")
    access(hub, tenant, "Alice", method="qr", person_id=42)
    access(hub, tenant, "Alice", method="face", person_id="42")
    access(hub, tenant, "Alice", method="card", person_id="7")

    assert len(await settle(hub, tenant, calls)) == 2


async def test_a_trigger_never_hears_another_tenant(hub: Hub, tenant: Tenant, calls: Calls, load: Load) -> None:
    other = await hub.tenants.create("globex")
    errors = await load(
        """
        - id: any_scan
          tenant: acme
          mode: queued
          triggers:
            - trigger: access
            - trigger: detection
            - trigger: device
        """
        + RECORD
        + MARKER
    )
    assert errors == []

    access(hub, other, "Alice")
    detection(hub, other)
    health = hub.health.track("their_gate", "Their gate", tenant_id=other.id)
    health.report_failure("unplugged")
    access(hub, tenant, "Alice")

    assert [data["description"] for data in await settle(hub, tenant, calls)] == ["access granted to Alice"]


# ------------------------------------------------------------------------------------------- detection


async def test_detection_filters_camera_label_confidence_and_zone(
    hub: Hub, tenant: Tenant, calls: Calls, load: Load
) -> None:
    errors = await load(
        """
        - id: person_at_gate
          tenant: acme
          mode: queued
          triggers:
            - trigger: detection
              entity_id: camera.gate
              label: Person
              min_confidence: 0.6
              zone: [driveway, door]
          actions:
            - action: test.record
              data:
                id: "{{ trigger.id }}"
                camera: "{{ trigger.entity_id }}"
                confidence: "{{ trigger.confidence }}"
                zones: "{{ trigger.zones | join(',') }}"
                description: "{{ trigger.description }}"
        """
        + MARKER
    )
    assert errors == []

    detection(hub, tenant, zones=["door"], confidence=0.75)
    detection(hub, tenant, zones=["door"], confidence=0.5)  # too unsure
    detection(hub, tenant, zones=["street"])  # another zone
    detection(hub, tenant, zones=["door"], label="car")
    detection(hub, tenant, zones=["door"], camera="camera.yard")
    detection(hub, tenant, zones=["door"], type="update")  # only starts by default
    detection(hub, tenant, zones=["door"], confidence=None)

    assert await settle(hub, tenant, calls) == [
        {"id": 0, "camera": "camera.gate", "confidence": 0.75, "zones": "door",
         "description": "person detected on camera.gate"},
    ]  # fmt: skip


async def test_detection_types_can_be_chosen(hub: Hub, tenant: Tenant, calls: Calls, load: Load) -> None:
    errors = await load(
        """
        - id: gone
          tenant: acme
          mode: queued
          triggers: [{trigger: detection, type: [update, end]}]
          actions: [{action: test.record, data: {id: "{{ trigger.type }}"}}]
        """
        + MARKER
    )
    assert errors == []

    for kind in ("start", "update", "end"):
        detection(hub, tenant, type=kind)

    assert await settle(hub, tenant, calls) == [{"id": "update"}, {"id": "end"}]


# ---------------------------------------------------------------------------------------- device health


async def test_device_fires_when_the_level_changes(hub: Hub, tenant: Tenant, calls: Calls, load: Load) -> None:
    errors = await load(
        """
        - id: gate_down
          tenant: acme
          mode: queued
          triggers:
            - trigger: device
              device_key: gate
              to: [offline, auth_failed]
              from: [excellent, good]
          actions:
            - action: test.record
              data:
                id: "{{ trigger.to_level }}"
                was: "{{ trigger.from_level }}"
                error: "{{ trigger.error }}"
                description: "{{ trigger.description }}"
        """
        + MARKER
    )
    assert errors == []
    gate = hub.health.track("gate", "Gate", tenant_id=tenant.id, device_id="dev1")
    yard = hub.health.track("yard", "Yard", tenant_id=tenant.id)

    gate.report_failure("no answer")  # unknown -> offline: not from a listed level
    gate.report_success(100.0)
    gate.report_failure("connection refused")
    yard.report_success(100.0)
    yard.report_failure("refused")  # another device

    assert await settle(hub, tenant, calls) == [
        {"id": "offline", "was": "excellent", "error": "connection refused", "description": "gate is offline"}
    ]


async def test_device_for_waits_and_a_recovery_cancels(hub: Hub, tenant: Tenant, calls: Calls, load: Load) -> None:
    errors = await load(
        """
        - id: offline_a_while
          tenant: acme
          mode: parallel
          triggers:
            - trigger: device
              device_id: [dev1, dev2]
              to: offline
              for: {milliseconds: 300}
          actions:
            - action: test.record
              data:
                id: "{{ trigger.device_key }}"
                for: "{{ trigger.for }}"
                description: "{{ trigger.description }}"
        """
    )
    assert errors == []
    flaky = hub.health.track("flaky", "Flaky", tenant_id=tenant.id, device_id="dev1")
    dead = hub.health.track("dead", "Dead", tenant_id=tenant.id, device_id="dev2")
    loop = hub.loop
    started = loop.time()

    flaky.report_failure("blip")
    dead.report_failure("unplugged")
    dead.report_failure("still unplugged")  # still offline: the wait goes on, it does not restart
    flaky.report_success(50.0)  # back before 300 ms: its wait is cancelled

    await wait_for(lambda: len(calls) > 0)
    assert loop.time() - started >= 0.3
    await hub.block_till_done()
    assert calls.data() == [{"id": "dead", "for": 0.3, "description": "dead is offline for 0.3 s"}]


async def test_automations_detach_their_waits_on_reload(hub: Hub, tenant: Tenant, calls: Calls, load: Load) -> None:
    config = """
        - id: offline_a_while
          tenant: acme
          triggers: [{trigger: device, to: offline, for: {seconds: 0.2}}]
          actions: [{action: test.record, data: {id: "{{ trigger.device_key }}"}}]
    """
    assert await load(config) == []
    hub.health.track("gone", "Gone", tenant_id=tenant.id).report_failure("unplugged")
    assert await load("[]") == []  # the automation goes away while its trigger waits
    assert await load(config) == []
    hub.health.track("later", "Later", tenant_id=tenant.id).report_failure("unplugged")

    await wait_for(lambda: len(calls) == 1)
    await hub.block_till_done()
    assert calls.data() == [{"id": "later"}]


# ------------------------------------------------------------------------------------------ bad config


@pytest.mark.parametrize(
    ("trigger", "key", "reason"),
    [
        ("{trigger: access, granted: maybe}", "triggers.0.granted", "expected bool"),
        ("{trigger: access, direction: sideways}", "triggers.0.direction", "expected in or out"),
        ("{trigger: access, colour: red}", "triggers.0.colour", ""),
        ("{trigger: detection, min_confidence: 1.5}", "triggers.0.min_confidence", "between 0 and 1"),
        ("{trigger: detection, entity_id: Front Gate}", "triggers.0.entity_id", "invalid entity id"),
        ("{trigger: detection, type: [begin]}", "triggers.0.type", "'begin' is not one of start, update, end"),
        ("{trigger: device, to: asleep}", "triggers.0.to", "'asleep' is not one of"),
        ("{trigger: device, device_id: a, device_key: b}", "triggers.0", "not both"),
        ("{trigger: device, for: soon}", "triggers.0.for", "invalid duration"),
    ],
)
async def test_a_bad_trigger_is_refused_and_the_others_run(
    hub: Hub, tenant: Tenant, calls: Calls, load: Load, trigger: str, key: str, reason: str
) -> None:
    errors = await load(
        f"""
        - id: broken
          tenant: acme
          triggers: [{trigger}]
          actions: [{{action: test.record, data: {{id: broken}}}}]
        """
        + MARKER
    )

    (error,) = errors
    assert (error.automation_id, error.key.startswith(key)) == ("broken", True), error
    assert reason in error.reason
    assert hub.automations.get("broken") is None
    assert await settle(hub, tenant, calls) == []  # the marker automation still runs
