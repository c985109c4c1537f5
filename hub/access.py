"""The ``access`` event: one shape for every door terminal, whatever its manufacturer.

Somebody presented a face, card, finger, code or QR code at a terminal. TM20, Hikvision and the demo fire it
with these keys, so an automation trigger, the events page and the recorder read every brand alike; an
integration may add its own keys (``sn``, ``log_id``, ``serial_no``) next to them.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from hub.core import EventType

Direction = Literal["in", "out"]


class AccessEventData(TypedDict):
    #: Device registry id of the terminal (None for a terminal that is held, unclaimed).
    device_id: str | None
    #: The person's display name, or None when the credential matched nobody.
    person: str | None
    #: How they identified: ``face``, ``card``, ``fingerprint``, ``password``, ``qr``, ``palm``, ``remote``...
    method: str
    #: Whether the terminal let them through.
    granted: bool
    direction: Direction
    #: ISO 8601 time of the scan, with the terminal's offset.
    time: str
    #: The person's id on the terminal (employee number, enroll id) when known.
    person_id: NotRequired[str | None]
    #: Door (or reader) number on the terminal, for terminals with several.
    door: NotRequired[int | str | None]
    #: Why access was refused, in words (``no permission``, ``face not recognised``).
    reason: NotRequired[str | None]


#: Fired once per scan, tenant-scoped to the terminal's tenant.
EVENT_ACCESS: EventType[AccessEventData] = EventType("access")
