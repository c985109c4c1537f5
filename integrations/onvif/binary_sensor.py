"""Binary sensors fed by ONVIF events: motion, tamper, line crossing, intrusion, digital inputs.

One sensor per topic rule and source (each digital input, each video source); created when the camera first
reports it, which it does right after subscribing (``Initialized`` property messages). A pulse event (a line
crossed) turns its sensor on and back off ``pulse`` seconds later.
"""

from __future__ import annotations

from typing import ClassVar

from hub.entity import STATE_OFF, STATE_ON, Entity
from hub.scheduler import Cancel
from hub.validation import slugify

from .topics import KINDS, TopicRule


def sensor_unique_id(serial: str, rule: TopicRule, source: str) -> str:
    """``SN123_cell_motion_videosourceconfig``: one sensor per device, topic rule and source."""
    return f"{serial}_{rule.key}_{slugify(source)}" if source else f"{serial}_{rule.key}"


class OnvifBinarySensor(Entity):
    """``numbered`` puts the source in the name (``digital input 2``); ``available`` follows the device's health."""

    domain: ClassVar[str] = "binary_sensor"

    def __init__(
        self, serial: str, device_name: str, rule: TopicRule, source: str, *, numbered: bool, available: bool = True
    ) -> None:
        info = KINDS[rule.kind]
        self.rule = rule
        self.source = source
        self._attr_unique_id = sensor_unique_id(serial, rule, source)
        self._attr_available = available
        label = f"{info.label} {source}" if numbered and source else info.label
        self._attr_name = f"{device_name} {label}"
        self._attr_device_class = info.device_class
        self._attr_icon = info.icon
        self._attr_state = None
        self._attr_extra_attributes = {"topic": rule.topic, "source": source or None}
        self._cancel_pulse: Cancel | None = None

    @property
    def is_on(self) -> bool:
        return self._attr_state == STATE_ON

    def set_on(self, on: bool) -> None:
        self._stop_pulse()
        self._set(STATE_ON if on else STATE_OFF)

    def pulse(self, seconds: float) -> None:
        """On now, off after ``seconds`` (a new pulse extends it)."""
        self._stop_pulse()
        self._set(STATE_ON)
        self._cancel_pulse = self.hub.scheduler.later(seconds, self._pulse_over, f"onvif pulse {self.entity_id}")

    def set_available(self, available: bool) -> None:
        if available != self._attr_available:
            self._attr_available = available
            self.write_state()

    def _set(self, state: str) -> None:
        if state != self._attr_state:
            self._attr_state = state
            self.write_state()

    def _pulse_over(self) -> None:
        self._cancel_pulse = None
        self._set(STATE_OFF)

    def _stop_pulse(self) -> None:
        if self._cancel_pulse is not None:
            self._cancel_pulse()
            self._cancel_pulse = None

    async def async_removed(self) -> None:
        self._stop_pulse()
