"""The overview (``/``): the tenant's devices with their entities and states, and the health summary strip.

overview.js keeps it live through the WebSocket API (``subscribe_entities``); this handler renders the
complete first picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hub.core import State
from hub.device_health import DeviceHealth
from hub.device_registry import Device
from hub.http.pages.formatting import sort_states
from hub.http.pages.notifications import visible_notifications
from hub.http.pages.rendering import Page, Rendered, page_handler


@dataclass(slots=True)
class DeviceView:
    """A device with what the pages show of it: its entities' states and its health connection(s)."""

    device: Device
    states: list[State] = field(default_factory=list)
    health: list[DeviceHealth] = field(default_factory=list)

    @property
    def level(self) -> str | None:
        """The worst level of its connections (most devices have one)."""
        levels = [str(health.level) for health in self.health if health.level is not None]
        order = ("auth_failed", "offline", "poor", "fair", "good", "excellent")
        return min(levels, key=order.index) if levels else None

    @property
    def health_entity_ids(self) -> list[str]:
        return [health.entity_ids[0] for health in self.health]

    @property
    def plain_states(self) -> list[State]:
        """Its entities without the four health entities (the card shows health as one badge)."""
        health_ids = {entity_id for health in self.health for entity_id in health.entity_ids}
        return [state for state in self.states if state.entity_id not in health_ids]


def device_views(page: Page) -> tuple[list[DeviceView], list[State]]:
    """Every device the caller sees with its states and health, and the states that belong to no device."""
    hub, scope = page.hub, page.scope
    views = {device.id: DeviceView(device) for device in scope.devices()}
    for health in scope.health_devices():
        if health.device_id in views:
            views[health.device_id].health.append(health)
    health_owner = {
        entity_id: health.device_id
        for view in views.values()
        for health in view.health
        for entity_id in health.entity_ids
    }
    loose: list[State] = []
    for state in scope.states():
        entry = hub.entities.get(state.entity_id)
        device_id = entry.device_id if entry is not None else health_owner.get(state.entity_id)
        if device_id in views:
            views[device_id].states.append(state)
        else:
            loose.append(state)
    for view in views.values():
        view.states = sort_states(view.states)
    ordered = sorted(views.values(), key=lambda view: (view.device.name.lower(), view.device.serial_number))
    return ordered, sort_states(loose)


@page_handler(nav="/")
async def overview(request: web.Request, page: Page) -> Rendered:
    devices, loose = device_views(page)
    summary: dict[str, Any] = page.scope.health_summary()
    return Rendered(
        "overview.html",
        {
            "title": page.t("overview.title"),
            "devices": devices,
            "loose": loose,
            "summary": summary,
            "entity_count": sum(len(view.plain_states) for view in devices) + len(loose),
            "known_ids": [state.entity_id for view in devices for state in view.states],
            "notifications": visible_notifications(page),
        },
    )
