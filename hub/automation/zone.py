"""The hub's time zone (``gatehouse: time_zone:``), which times of day in automations are read in."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hub.core import Hub


def hub_zone(hub: Hub) -> ZoneInfo:
    name = (hub.config.get("gatehouse") or {}).get("time_zone", "UTC")
    try:
        return ZoneInfo(str(name))
    except (ValueError, KeyError):
        return ZoneInfo("UTC")
