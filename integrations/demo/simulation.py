"""The demo site's life: people scan at the doors, the camera sees motion, the library warms and cools.

One ``DemoSimulation`` per config entry owns the entities and a seeded random generator; ``tick`` runs on
the hub's scheduler every ``interval`` seconds, so the dashboard and the event stream are alive at once.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from hub.access import EVENT_ACCESS, AccessEventData
from hub.core import Hub
from hub.device_registry import Device

from .binary_sensor import DemoBinarySensor
from .const import PEOPLE, RELOCK_SECONDS, SEED
from .devices import GATE_CAMERA, GATE_TERMINAL, LIBRARY_STATION, STAFF_TERMINAL, DemoDeviceSpec
from .entity import DemoEntity
from .lock import DemoLock
from .sensor import DemoSensor

SCAN_CHANCE = 0.6  # per tick, somebody presents themselves at a door
LEAVE_CHANCE = 0.25  # per tick, somebody leaves the site
MOTION_FLIP_CHANCE = 0.3
DENIED_CHANCE = 0.1  # a known person is refused now and then (expired card, out of schedule)


@dataclass(frozen=True, slots=True)
class Door:
    """A door, the terminal that guards it, and how people identify themselves there."""

    name: str
    device: Device
    lock: DemoLock
    methods: tuple[str, ...]
    counts_people: bool


class DemoSimulation:
    """Owns the demo entities of one entry and moves them along on each tick."""

    def __init__(self, hub: Hub, devices: dict[DemoDeviceSpec, Device], interval: float, tenant_id: str) -> None:
        self.hub = hub
        self.tenant_id = tenant_id
        self.rng = random.Random(SEED)
        relock_after = min(RELOCK_SECONDS, 2 * interval)
        gate, staff = devices[GATE_TERMINAL], devices[STAFF_TERMINAL]
        camera, station = devices[GATE_CAMERA], devices[LIBRARY_STATION]
        self.doors = (
            Door("Front gate", gate, DemoLock(gate, "Front gate", relock_after), ("card", "fingerprint", "face"), True),
            Door("Staff door", staff, DemoLock(staff, "Staff door", relock_after), ("face",), False),
        )
        self.motion = DemoBinarySensor(camera, "motion", "Gate camera motion", "motion")
        self.people = DemoSensor(camera, "people", "People count", 0, unit="people", icon="mdi:account-group")
        self.temperature = DemoSensor(
            station, "temperature", "Library temperature", 21.0, unit="°C", device_class="temperature"
        )

    def entities(self) -> list[DemoEntity]:
        """Contacts before their locks: a lock publishes its contact when it opens."""
        door_entities: list[DemoEntity] = [entity for door in self.doors for entity in (door.lock.contact, door.lock)]
        return [*door_entities, self.motion, self.people, self.temperature]

    def tick(self) -> None:
        rng = self.rng
        self.temperature.set_value(round(min(26.0, max(17.0, self.temperature.value + rng.gauss(0, 0.2))), 1))
        if rng.random() < MOTION_FLIP_CHANCE:
            self.motion.set_on(not self.motion.is_on)
        if self.people.value > 0 and rng.random() < LEAVE_CHANCE:
            self.people.set_value(self.people.value - 1)
        if rng.random() < SCAN_CHANCE:
            self.scan(rng.choice(self.doors))

    def scan(self, door: Door) -> None:
        """Somebody presents a face, card or finger: fire ``access``, and open the door if granted."""
        person = self.rng.choice(PEOPLE)
        granted = person != "Visitor" and self.rng.random() >= DENIED_CHANCE
        data: AccessEventData = {
            "device_id": door.device.id,
            "person": person,
            "method": self.rng.choice(door.methods),
            "granted": granted,
            "direction": "in",
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "door": door.name,
        }
        self.hub.bus.fire(EVENT_ACCESS, data, tenant_id=self.tenant_id)
        if granted:
            door.lock.open()
            if door.counts_people:
                self.people.set_value(self.people.value + 1)
