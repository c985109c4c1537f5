"""What the REST API and the dashboard pages show of terminals, people and logs, read the same way for both.

Visibility is the device registry's, through the caller's ``TenantScope``: a terminal is the device with
manufacturer ``TM20`` and serial ``sn``, visible exactly when ``scope.device`` lets its device through (another
tenant's terminal and an absent one are the same ``NotFound``). Logs and people carry their tenant and are
filtered by ``scope.tenant_filter``, so logs a terminal wrote for a previous owner stay that owner's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from hub.auth.scope import NotFound, TenantScope
from hub.core import Hub
from hub.device_registry import Device

from .const import DOMAIN, MANUFACTURER
from .log_writer import LogEntry
from .models import Tm20TerminalUser
from .protocol import INOUT, credential_kind, log_method
from .store import Person, Tm20Store, log_as_dict

if TYPE_CHECKING:
    from .manager import TerminalManager

#: Most log rows one request returns; older ones are reached with ``before_id``.
MAX_LOGS = 1000


def manager_of(hub: Hub) -> TerminalManager | None:
    """The running TerminalManager (``hub.data["tm20"]``); None when ``tm20:`` is not configured."""
    manager = hub.data.get(DOMAIN)
    return manager


def terminal_device(scope: TenantScope, sn: str) -> Device:
    """The terminal's device if the caller may see it; NotFound otherwise (absent or another tenant's)."""
    device = scope.hub.devices.get_by_serial(MANUFACTURER, sn.strip())
    if device is None:
        raise NotFound("terminal", sn)
    try:
        return scope.device(device.id)
    except NotFound:
        raise NotFound("terminal", sn) from None


@dataclass(slots=True)
class TerminalView:
    """One terminal as a caller sees it: registry facts, the last registration, the live connection, counts."""

    device: Device
    connected: bool = False
    connected_at: float | None = None
    remote_address: str | None = None
    last_message: float | None = None
    time_zone: str | None = None
    first_seen: float | None = None
    last_registered: float | None = None
    devinfo: dict[str, Any] = field(default_factory=dict)
    users: int | None = None
    logs: int = 0

    @property
    def sn(self) -> str:
        return self.device.serial_number

    @property
    def last_seen(self) -> float | None:
        return max((t for t in (self.last_message, self.device.last_seen) if t is not None), default=None)

    def as_dict(self, *, detail: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sn": self.sn,
            "device_id": self.device.id,
            "name": self.device.name,
            "tenant_id": self.device.tenant_id,
            "status": str(self.device.status),
            "connected": self.connected,
            "connected_at": self.connected_at,
            "last_seen": self.last_seen,
            "model": self.device.model,
            "firmware": self.device.sw_version,
            "time_zone": self.time_zone,
            "users": self.users,
            "logs": self.logs,
        }
        if detail:
            data |= {
                "remote_address": self.remote_address,
                "first_seen": self.first_seen,
                "last_registered": self.last_registered,
                "devinfo": self.devinfo,
            }
        return data


async def terminal_views(hub: Hub, devices: list[Device]) -> list[TerminalView]:
    """Views of ``devices`` (already filtered by the caller's scope): the manager's memory for registrations,
    connections and log counts (the same numbers as the terminal's sensors), one query for user counts."""
    views = [TerminalView(device) for device in devices]
    manager = manager_of(hub)
    if manager is None or not views:
        return views
    serials = [view.sn for view in views]
    async with hub.database.session() as session:
        rows = await session.execute(
            select(Tm20TerminalUser.sn, func.count())
            .where(Tm20TerminalUser.sn.in_(serials))
            .group_by(Tm20TerminalUser.sn)
        )
        user_counts: dict[str, int] = {sn: int(count) for sn, count in rows}
    for view in views:
        info = manager.terminals.get(view.sn)
        if info is not None:
            view.first_seen = info.first_seen or None
            view.last_registered = info.last_registered
            view.devinfo = dict(info.devinfo)
        view.users = user_counts.get(view.sn)
        if view.users is None and isinstance(view.devinfo.get("useduser"), int):
            view.users = view.devinfo["useduser"]
        view.time_zone = str(manager.zone_of(view.sn))  # its own, else the endpoint's
        view.logs = manager.log_count(view.sn)
        connection = manager.session(view.sn)
        if connection is not None:
            view.connected = True
            view.connected_at = connection.connected_at
            view.last_message = connection.last_seen
            view.remote_address = connection.remote
    return views


def scope_terminals(scope: TenantScope) -> list[Device]:
    """Every TM20 device the caller sees, by name."""
    devices = [device for device in scope.devices() if device.manufacturer == MANUFACTURER]
    return sorted(devices, key=lambda device: (device.name.lower(), device.serial_number))


# ------------------------------------------------------------------------------------------------------ logs


def log_dict(entry: LogEntry, people: dict[int, str]) -> dict[str, Any]:
    """A log for JSON and the pages: the stored fields, the person's name when known, and readable words for
    the method and direction (informative: ``mode``/``inout`` stay as the terminal sent them)."""
    return {
        **log_as_dict(entry),
        "person": people.get(entry.enrollid) if entry.enrollid else None,
        "method": log_method(entry.mode, entry.verifymode),
        "direction": INOUT.get(entry.inout),
    }


async def terminal_logs(hub: Hub, scope: TenantScope, sn: str, **filters: Any) -> list[dict[str, Any]]:
    """The terminal's logs the caller may see (its tenant's; every tenant's for a platform administrator)."""
    entries = await Tm20Store(hub.database).logs(sns=[sn], tenant_id=scope.tenant_filter, **filters)
    names: dict[str, dict[int, str]] = {}
    for tenant_id in {entry.tenant_id for entry in entries if entry.tenant_id is not None}:
        names[tenant_id] = await people_names(hub, tenant_id, {entry.enrollid for entry in entries if entry.enrollid})
    return [log_dict(entry, names.get(entry.tenant_id or "", {})) for entry in entries]


# ---------------------------------------------------------------------------------------------------- people


async def people_names(hub: Hub, tenant_id: str, enrollids: set[int]) -> dict[int, str]:
    """Names of the tenant's people by enrollid (from the manager's in-memory directory)."""
    manager = manager_of(hub)
    if manager is None:
        return {}
    found = (manager.people.find(tenant_id, enrollid) for enrollid in enrollids)
    return {person.enrollid: person.name for person in found if person is not None}


def person_dict(person: Person | dict[str, Any]) -> dict[str, Any]:
    """A person for JSON and the pages: credential slots and kinds, never templates, card numbers or PINs."""
    data = person.as_dict() if isinstance(person, Person) else dict(person)
    return {**data, "credential_kinds": credential_kinds(data["credentials"])}


async def tenant_people(hub: Hub, scope_or_tenant: TenantScope | str) -> list[dict[str, Any]]:
    """One tenant's people by enrollid, or every person a scope sees (all tenants for a platform administrator)."""
    manager = manager_of(hub)
    if manager is None:
        return []
    if isinstance(scope_or_tenant, str):
        tenant_ids = [scope_or_tenant]
    else:
        tenant_ids = [tenant.id for tenant in scope_or_tenant.tenants()]
    return [person_dict(person) for tenant_id in tenant_ids for person in manager.people.of_tenant(tenant_id)]


async def terminal_users(hub: Hub, sn: str) -> list[dict[str, Any]]:
    """Who is enrolled on the terminal, as the last pull or ``senduser`` showed it."""
    users = await Tm20Store(hub.database).terminal_users(sn)
    return [{**user.as_dict(), "credential_kinds": credential_kinds(user.backupnums)} for user in users]


def credential_kinds(backupnums: Iterable[int]) -> list[str]:
    """Fingerprint, password, card, face, palm, photo: each kind once, in that order (for badges)."""
    kinds = {str(credential_kind(backupnum)) for backupnum in backupnums}
    return [kind for kind in _KIND_ORDER if kind in kinds]


_KIND_ORDER = ("fingerprint", "password", "card", "face", "palm", "photo", "unknown")
