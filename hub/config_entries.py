"""Config entries: one configured device or account of an integration, stored in the database, owned by a
tenant, and set up, unloaded and reloaded through the integration's descriptor.

Set-up is isolated: an integration that raises is logged once with the reason and marked failed with it.
ConfigEntryNotReady and connection errors are transient: retried at 5, 10, 20, 40, then every 80 s.
ConfigEntryAuthFailed is not retried (devices lock accounts after repeated failures).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import voluptuous as vol
from sqlalchemy import delete, select

from hub.backoff import Backoff
from hub.core import EventType, Hub, await_maybe
from hub.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady, HubError
from hub.ids import new_id
from hub.integration import DEFAULT_SECRET_FIELDS, Integration
from hub.store.encryption import FieldCipher, UndecryptableField
from hub.store.models import ConfigEntryRow
from hub.validation import invalid_fields

_LOGGER = logging.getLogger(__name__)

ENTRY_RETRY_DELAYS = (5.0, 10.0, 20.0, 40.0, 80.0)  # then every 80 s
EVENT_CONFIG_ENTRY_UPDATED: EventType[dict[str, Any]] = EventType("config_entry_updated")

UnloadCallback = Callable[[], Awaitable[None] | None]


class EntryState(enum.StrEnum):
    NOT_LOADED = "not_loaded"
    SETUP_IN_PROGRESS = "setup_in_progress"
    LOADED = "loaded"
    SETUP_RETRY = "setup_retry"
    SETUP_ERROR = "setup_error"
    FAILED_UNLOAD = "failed_unload"
    INTEGRATION_MISSING = "integration_missing"


class InvalidConfigEntry(HubError, ValueError):
    """Entry data failed the integration's schema; ``fields`` names each bad field."""

    def __init__(self, domain: str, fields: dict[str, str]) -> None:
        details = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        super().__init__(f"invalid configuration for {domain}: {details}")
        self.domain = domain
        self.fields = fields


class UnknownIntegration(HubError, LookupError):
    """No loaded integration has that domain."""


@dataclass(eq=False)
class ConfigEntry:
    """One entry. ``runtime_data`` is the integration's own object for the loaded entry (a connection...)."""

    entry_id: str
    domain: str
    title: str
    data: Mapping[str, Any]
    tenant_id: str | None
    options: Mapping[str, Any] = field(default_factory=dict)
    disabled: bool = False
    created_at: float = 0.0
    state: EntryState = EntryState.NOT_LOADED
    reason: str | None = None
    retry_delay: float | None = None
    runtime_data: Any = None
    _on_unload: list[UnloadCallback] = field(default_factory=list, repr=False)
    _retry_handle: asyncio.TimerHandle | None = field(default=None, repr=False)
    _backoff: Backoff = field(default_factory=lambda: Backoff(ENTRY_RETRY_DELAYS, cap=80.0), repr=False)

    def on_unload(self, callback: UnloadCallback) -> None:
        """Run ``callback`` when the entry unloads (close a socket, cancel a loop, remove a listener)."""
        self._on_unload.append(callback)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "domain": self.domain,
            "title": self.title,
            "tenant_id": self.tenant_id,
            "disabled": self.disabled,
            "state": str(self.state),
            "reason": self.reason,
            "retry_delay": self.retry_delay,
            "created_at": self.created_at,
        }


class ConfigEntries:
    """Every config entry of the hub, their storage and their life cycle."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._entries: dict[str, ConfigEntry] = {}
        self._cipher = FieldCipher.for_config_dir(hub.config_dir)

    # ------------------------------------------------------------------------------------------ queries

    def get(self, entry_id: str) -> ConfigEntry | None:
        return self._entries.get(entry_id)

    def all(self, domain: str | None = None, tenant_id: str | None = None) -> list[ConfigEntry]:
        return [
            entry
            for entry in self._entries.values()
            if (domain is None or entry.domain == domain) and (tenant_id is None or entry.tenant_id == tenant_id)
        ]

    # ------------------------------------------------------------------------------------------ storage

    async def load(self) -> None:
        async with self._hub.database.session() as session:
            rows = (await session.scalars(select(ConfigEntryRow))).all()
        for row in rows:
            entry = ConfigEntry(
                entry_id=row.id,
                domain=row.domain,
                title=row.title,
                data=row.data,
                options=row.options or {},
                tenant_id=row.tenant_id,
                disabled=row.disabled,
                created_at=row.created_at,
            )
            try:
                entry.data = self._cipher.open(row.data)
            except UndecryptableField as err:  # kept sealed; set-up refuses it with this reason
                entry.reason = str(err)
                _LOGGER.error("Config entry %s (%s): %s", entry.title, entry.entry_id, err)
            self._entries[row.id] = entry

    async def add(
        self,
        domain: str,
        data: Mapping[str, Any],
        *,
        tenant_id: str | None,
        title: str | None = None,
        options: Mapping[str, Any] | None = None,
        setup: bool = True,
    ) -> ConfigEntry:
        """Validate ``data`` with the integration's entry schema, store the entry, and set it up."""
        integration = self._integration(domain)
        validated = self._validate(integration, data)
        entry = ConfigEntry(
            entry_id=new_id(),
            domain=domain,
            title=title or integration.name,
            data=validated,
            options=dict(options or {}),
            tenant_id=tenant_id,
            created_at=time.time(),
        )
        await self._save(entry)
        self._entries[entry.entry_id] = entry
        if setup:
            await self.setup(entry.entry_id)
        return entry

    async def update(
        self,
        entry_id: str,
        *,
        data: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        title: str | None = None,
    ) -> ConfigEntry:
        """Change an entry and reload it: a configuration change also restarts stopped retries."""
        entry = self._entries[entry_id]
        if data is not None:
            entry.data = self._validate(self._integration(entry.domain), data)
        if options is not None:
            entry.options = dict(options)
        if title is not None:
            entry.title = title
        await self._save(entry)
        await self.reload(entry_id)
        return entry

    async def remove(self, entry_id: str) -> None:
        entry = self._entries.get(entry_id)
        if entry is None:
            return
        await self.unload(entry_id)
        del self._entries[entry_id]
        async with self._hub.database.session() as session:
            await session.execute(delete(ConfigEntryRow).where(ConfigEntryRow.id == entry_id))
            await session.commit()
        self._announce(entry, "remove")

    # --------------------------------------------------------------------------------------- life cycle

    async def setup_all(self) -> None:
        """Set up every stored, enabled entry; each is isolated from the others."""
        entries = [entry for entry in self._entries.values() if not entry.disabled]
        await asyncio.gather(*(self.setup(entry.entry_id) for entry in entries))

    async def setup(self, entry_id: str) -> bool:
        """Set up one entry. Returns True when loaded; failures are recorded on the entry, never raised."""
        entry = self._entries[entry_id]
        if entry.state in (EntryState.LOADED, EntryState.SETUP_IN_PROGRESS):
            return entry.state is EntryState.LOADED
        integration = self._hub.plugins.integrations.get(entry.domain)
        if integration is None or integration.async_setup_entry is None:
            self._set_state(entry, EntryState.INTEGRATION_MISSING, f"integration {entry.domain!r} is not loaded")
            _LOGGER.error("Config entry %s (%s): integration %r is not loaded", entry.title, entry_id, entry.domain)
            return False
        try:
            self._cipher.open(entry.data)
        except UndecryptableField as err:
            self._set_state(entry, EntryState.SETUP_ERROR, str(err))
            return False
        self._set_state(entry, EntryState.SETUP_IN_PROGRESS, None)
        try:
            await integration.async_setup_entry(self._hub, entry)
        except ConfigEntryAuthFailed as err:
            await self._run_unload_callbacks(entry)
            self._fail(
                entry, EntryState.SETUP_ERROR, f"authentication failed: {err}" if str(err) else "authentication failed"
            )
            return False
        except (ConfigEntryNotReady, OSError, TimeoutError) as err:
            await self._run_unload_callbacks(entry)
            self._schedule_retry(entry, str(err) or type(err).__name__)
            return False
        except Exception as err:  # an integration's bug must not take the hub down
            await self._run_unload_callbacks(entry)
            _LOGGER.exception("Config entry %s (%s) of %s failed to set up", entry.title, entry_id, entry.domain)
            self._set_state(entry, EntryState.SETUP_ERROR, f"{type(err).__name__}: {err}")
            return False
        entry._backoff.reset()
        entry.retry_delay = None
        self._set_state(entry, EntryState.LOADED, None)
        return True

    async def unload(self, entry_id: str) -> bool:
        entry = self._entries[entry_id]
        self._cancel_retry(entry)
        if entry.state is not EntryState.LOADED:
            self._set_state(entry, EntryState.NOT_LOADED, None)
            return True
        integration = self._hub.plugins.integrations.get(entry.domain)
        try:
            if integration is not None and integration.async_unload_entry is not None:
                await integration.async_unload_entry(self._hub, entry)
        except Exception as err:
            _LOGGER.exception("Config entry %s (%s) failed to unload", entry.title, entry_id)
            self._set_state(entry, EntryState.FAILED_UNLOAD, f"{type(err).__name__}: {err}")
            return False
        finally:
            await self._run_unload_callbacks(entry)
        entry.runtime_data = None
        self._set_state(entry, EntryState.NOT_LOADED, None)
        return True

    async def reload(self, entry_id: str) -> bool:
        entry = self._entries[entry_id]
        await self.unload(entry_id)
        entry._backoff.reset()
        return await self.setup(entry_id)

    async def unload_all(self) -> None:
        for entry in list(self._entries.values()):
            self._cancel_retry(entry)
            if entry.state is EntryState.LOADED:
                await self.unload(entry.entry_id)

    # ---------------------------------------------------------------------------------------- internals

    def _integration(self, domain: str) -> Integration:
        integration = self._hub.plugins.integrations.get(domain)
        if integration is None:
            raise UnknownIntegration(f"no integration named {domain!r}")
        return integration

    @staticmethod
    def _validate(integration: Integration, data: Mapping[str, Any]) -> dict[str, Any]:
        if integration.config_entry_schema is None:
            return dict(data)
        try:
            return dict(integration.config_entry_schema(dict(data)))
        except vol.Invalid as err:
            raise InvalidConfigEntry(integration.domain, invalid_fields(err)) from None

    def _schedule_retry(self, entry: ConfigEntry, reason: str) -> None:
        delay = entry._backoff.failed()
        first = entry.retry_delay is None
        entry.retry_delay = delay
        if first or entry.reason != reason:
            _LOGGER.warning(
                "Config entry %s (%s) not ready: %s; retrying in %.0f s", entry.title, entry.entry_id, reason, delay
            )
        self._set_state(entry, EntryState.SETUP_RETRY, reason)
        entry._retry_handle = self._hub.loop.call_later(
            delay or 0, lambda: self._hub.create_background_task(self.setup(entry.entry_id), f"retry {entry.entry_id}")
        )

    def _fail(self, entry: ConfigEntry, state: EntryState, reason: str) -> None:
        _LOGGER.error("Config entry %s (%s) of %s: %s", entry.title, entry.entry_id, entry.domain, reason)
        self._set_state(entry, state, reason)

    @staticmethod
    def _cancel_retry(entry: ConfigEntry) -> None:
        if entry._retry_handle is not None:
            entry._retry_handle.cancel()
            entry._retry_handle = None

    @staticmethod
    async def _run_unload_callbacks(entry: ConfigEntry) -> None:
        callbacks, entry._on_unload = entry._on_unload, []
        for callback in reversed(callbacks):
            try:
                await await_maybe(callback())
            except Exception:
                _LOGGER.exception("Unload callback of config entry %s failed", entry.entry_id)

    def _set_state(self, entry: ConfigEntry, state: EntryState, reason: str | None) -> None:
        changed = entry.state is not state or entry.reason != reason
        entry.state = state
        entry.reason = reason
        if changed:
            self._announce(entry, "state")

    def _announce(self, entry: ConfigEntry, action: str) -> None:
        self._hub.bus.fire(
            EVENT_CONFIG_ENTRY_UPDATED,
            {
                "action": action,
                "entry_id": entry.entry_id,
                "domain": entry.domain,
                "state": str(entry.state),
                "reason": entry.reason,
            },
            tenant_id=entry.tenant_id,
        )

    async def _save(self, entry: ConfigEntry) -> None:
        integration = self._hub.plugins.integrations.get(entry.domain)
        secret_fields = integration.secret_fields if integration else DEFAULT_SECRET_FIELDS
        async with self._hub.database.session() as session:
            await session.merge(
                ConfigEntryRow(
                    id=entry.entry_id,
                    domain=entry.domain,
                    title=entry.title,
                    data=self._cipher.seal(entry.data, secret_fields),
                    options=dict(entry.options),
                    tenant_id=entry.tenant_id,
                    disabled=entry.disabled,
                    created_at=entry.created_at,
                )
            )
            await session.commit()
