"""The entity registry: stable entity ids (platform + unique id), their device, entry and tenant.

It also keeps the live Entity objects, so an entry's entities can be removed when it unloads and a
device's entities follow it when a tenant claims or releases it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from hub.core import Event, Hub
from hub.device_registry import EVENT_DEVICE_REGISTRY_UPDATED, Device
from hub.entity import Entity
from hub.store.models import EntityRow
from hub.validation import slugify

if TYPE_CHECKING:
    from hub.config_entries import ConfigEntry


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    entity_id: str
    platform: str
    unique_id: str
    name: str | None
    device_id: str | None
    config_entry_id: str | None
    tenant_id: str | None
    disabled: bool
    created_at: float


class EntityRegistry:
    """Registry entries (persisted) and the live entities added in this run."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._entries: dict[str, RegistryEntry] = {}
        self._by_unique_id: dict[tuple[str, str], str] = {}
        self._live: dict[str, Entity] = {}
        hub.bus.listen(EVENT_DEVICE_REGISTRY_UPDATED, self._device_updated)

    async def load(self) -> None:
        async with self._hub.database.session() as session:
            rows = (await session.scalars(select(EntityRow))).all()
        for row in rows:
            self._remember(RegistryEntry(**{field.name: getattr(row, field.name) for field in fields(RegistryEntry)}))

    def get(self, entity_id: str) -> RegistryEntry | None:
        return self._entries.get(entity_id)

    def entity(self, entity_id: str) -> Entity | None:
        """The live entity object behind an entity id, if it was added in this run."""
        return self._live.get(entity_id)

    def all(self, *, tenant_id: str | None = None, device_id: str | None = None) -> list[RegistryEntry]:
        return [
            entry
            for entry in self._entries.values()
            if (tenant_id is None or entry.tenant_id == tenant_id)
            and (device_id is None or entry.device_id == device_id)
        ]

    async def add(
        self,
        entity: Entity,
        *,
        platform: str,
        config_entry: ConfigEntry | None = None,
        device: Device | None = None,
    ) -> Entity:
        """Give the entity its id and tenant, remember it, publish its first state.

        ``platform`` is the integration's domain. The entity keeps its id across restarts through its
        unique id; an entity without a unique id gets an id from its name, not persisted.
        """
        tenant_id = device.tenant_id if device else (config_entry.tenant_id if config_entry else None)
        entity.hub = self._hub
        entity.device_id = device.id if device else None
        entity.config_entry_id = config_entry.entry_id if config_entry else None
        entity.tenant_id = tenant_id
        unique_id = entity.unique_id
        if unique_id is None:
            entity.entity_id = self._free_entity_id(entity.domain, slugify(entity.name or platform))
        else:
            entry = await self._get_or_create(entity, platform, unique_id, tenant_id)
            entity.entity_id = entry.entity_id
        self._live[entity.entity_id] = entity
        await entity.async_added()
        entity.write_state()
        return entity

    async def remove(self, entity_id: str, *, forget: bool = False) -> None:
        """Take a live entity off the bus; ``forget`` also deletes its registry entry (its id is freed)."""
        entity = self._live.pop(entity_id, None)
        if entity is not None:
            await entity.async_removed()
        self._hub.states.remove(entity_id)
        if forget and self._entries.pop(entity_id, None) is not None:
            self._by_unique_id = {key: value for key, value in self._by_unique_id.items() if value != entity_id}
            async with self._hub.database.session() as session:
                await session.execute(delete(EntityRow).where(EntityRow.entity_id == entity_id))
                await session.commit()

    async def remove_entry_entities(self, config_entry_id: str) -> None:
        """Unloading an entry takes its live entities off the bus (their registry entries stay)."""
        for entity_id in [eid for eid, entity in self._live.items() if entity.config_entry_id == config_entry_id]:
            await self.remove(entity_id)

    # ---------------------------------------------------------------------------------------- internals

    async def _get_or_create(
        self, entity: Entity, platform: str, unique_id: str, tenant_id: str | None
    ) -> RegistryEntry:
        existing_id = self._by_unique_id.get((platform, unique_id))
        if existing_id is not None:
            entry = self._entries[existing_id]
            if entry.tenant_id == tenant_id and entry.device_id == entity.device_id:
                return entry
            entry = replace(
                entry, tenant_id=tenant_id, device_id=entity.device_id, config_entry_id=entity.config_entry_id
            )
        else:
            suggested = slugify(entity.name or unique_id)
            entry = RegistryEntry(
                entity_id=self._free_entity_id(entity.domain, suggested),
                platform=platform,
                unique_id=unique_id,
                name=entity.name,
                device_id=entity.device_id,
                config_entry_id=entity.config_entry_id,
                tenant_id=tenant_id,
                disabled=False,
                created_at=time.time(),
            )
        await self._save(entry)
        return entry

    def _free_entity_id(self, domain: str, object_id: str) -> str:
        candidate = f"{domain}.{object_id}"
        suffix = 2
        while candidate in self._entries or candidate in self._live or candidate in self._hub.states:
            candidate = f"{domain}.{object_id}_{suffix}"
            suffix += 1
        return candidate

    async def _save(self, entry: RegistryEntry) -> None:
        await self._hub.database.merge(EntityRow(**asdict(entry)))
        self._remember(entry)

    def _remember(self, entry: RegistryEntry) -> None:
        self._entries[entry.entity_id] = entry
        self._by_unique_id[(entry.platform, entry.unique_id)] = entry.entity_id

    def _device_updated(self, event: Event[Any]) -> None:
        """A claim or a release moves the device's entities (and their states) to the new tenant."""
        device = self._hub.devices.get(event.data["device_id"])
        if device is None or (event.data["action"] == "update" and event.data["old_tenant_id"] == device.tenant_id):
            return  # a status change (2,000 terminals reconnecting): no entity to move, no scan of them all
        for entity in [entity for entity in self._live.values() if entity.device_id == device.id]:
            if entity.tenant_id != device.tenant_id:
                entity.tenant_id = device.tenant_id
                self._hub.create_task(self._retenant(entity, device.tenant_id), f"retenant {entity.entity_id}")

    async def _retenant(self, entity: Entity, tenant_id: str | None) -> None:
        entry = self._entries.get(entity.entity_id)
        if entry is not None:
            await self._save(replace(entry, tenant_id=tenant_id))
        # A state keeps its owner unless told otherwise; moving to "no tenant" means rewriting it.
        self._hub.states.remove(entity.entity_id)
        entity.write_state()
