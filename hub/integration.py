"""What an integration is, as the hub sees it: a descriptor plus a per-entry life cycle.

An integration answers the ``integration`` hook with one ``Integration``. Pluggy calls the hooks every
plugin may answer; the life cycle of one configured device or account (a config entry) is this plain
interface, because exactly one integration owns each entry.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import voluptuous as vol

if TYPE_CHECKING:
    from hub.config_entries import ConfigEntry
    from hub.core import Hub


class IotClass(enum.StrEnum):
    """How the hub talks to the device, as Home Assistant names it."""

    LOCAL_PUSH = "local_push"
    LOCAL_POLLING = "local_polling"
    CLOUD_PUSH = "cloud_push"
    CLOUD_POLLING = "cloud_polling"
    CALCULATED = "calculated"


#: Entry data keys encrypted at rest unless an integration names its own.
DEFAULT_SECRET_FIELDS: frozenset[str] = frozenset({"password"})

SetupHook = Callable[["Hub", Mapping[str, Any]], Awaitable[None]]
EntrySetup = Callable[["Hub", "ConfigEntry"], Awaitable[None]]
EntryUnload = Callable[["Hub", "ConfigEntry"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Integration:
    """The descriptor an integration gives the hub.

    ``config_schema`` validates its section of configuration.yaml (the section's value, not the whole file);
    ``async_setup`` runs once at start when that section is present. ``config_entry_schema`` validates the
    data of one config entry; ``async_setup_entry`` / ``async_unload_entry`` start and stop one entry.
    Set-up may raise ConfigEntryNotReady (retried with back-off) or ConfigEntryAuthFailed (not retried).
    ``secret_fields`` name the entry data keys (passwords, keys, tokens) that are encrypted at rest and never
    returned by the API.
    """

    domain: str
    name: str
    version: str = "0.1.0"
    iot_class: IotClass = IotClass.LOCAL_PUSH
    config_schema: vol.Schema | None = None
    config_entry_schema: vol.Schema | None = None
    async_setup: SetupHook | None = None
    async_setup_entry: EntrySetup | None = None
    async_unload_entry: EntryUnload | None = None
    documentation: str = ""
    secret_fields: frozenset[str] = DEFAULT_SECRET_FIELDS
    module: str = field(default="", compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "name": self.name,
            "version": self.version,
            "iot_class": str(self.iot_class),
            "config_entries": self.async_setup_entry is not None,
            "documentation": self.documentation,
        }
