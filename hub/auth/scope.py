"""Who is asking, and what they may see: the one place where tenant isolation is decided.

Every face of the hub (REST, WebSocket, dashboard, media URLs) turns the authenticated request into a
``Caller`` and reads through a ``TenantScope``: it never filters by tenant itself. Outside the caller's tenant
things do not exist (``NotFound``, answered 404); inside it, a role too low for an action is ``Forbidden`` (403).
Service calls are checked in ``authorize_service_call``, installed as ``hub.services.authorize``, so
automations and API callers alike can only target their own tenant's entities and devices.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.core import Context, Event, Hub, ServiceCall, State
from hub.exceptions import HubError, Unauthorized

if TYPE_CHECKING:
    from hub.config_entries import ConfigEntry
    from hub.device_health import DeviceHealth
    from hub.device_registry import Device
    from hub.tenants import Tenant


class Role(enum.StrEnum):
    """A user's role inside their tenant, weakest first."""

    VIEWER = "viewer"  # sees everything of the tenant
    OPERATOR = "operator"  # + calls services, acknowledges events, reconnects devices
    ADMIN = "admin"  # + claims devices, manages config entries, users and API keys, reads the audit log
    OWNER = "owner"  # + manages admins and owners

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class NotFound(HubError, LookupError):
    """Absent, or outside the caller's tenant: the two are indistinguishable on purpose (404)."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key} not found")
        self.kind = kind
        self.key = key


class Forbidden(Unauthorized):
    """Inside the caller's tenant, but their role does not allow this (403)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated principal: a user through a token or the session, or a program through an API key.

    A platform administrator has ``platform_admin`` set and sees every tenant (their ``tenant_id`` may be None).
    """

    user_id: str | None
    tenant_id: str | None
    role: Role
    platform_admin: bool = False
    name: str = ""
    via: str = "token"  # "token", "session", "api_key", "system"

    def at_least(self, role: Role) -> bool:
        return self.platform_admin or self.role.rank >= role.rank

    def context(self, parent_id: str | None = None) -> Context:
        """The context to attach to what this caller causes (events, service calls, state writes)."""
        return Context(
            user_id=self.user_id, tenant_id=None if self.platform_admin else self.tenant_id, parent_id=parent_id
        )


SYSTEM = Caller(user_id=None, tenant_id=None, role=Role.OWNER, platform_admin=True, name="system", via="system")


class TenantScope:
    """The hub as one caller may see it. Cheap to build: one per request or WebSocket connection."""

    __slots__ = ("caller", "hub")

    def __init__(self, hub: Hub, caller: Caller) -> None:
        self.hub = hub
        self.caller = caller

    # ----------------------------------------------------------------------------------------- basics

    @property
    def tenant_filter(self) -> str | None:
        """The tenant id to filter queries by; None means every tenant (platform administrators only)."""
        return None if self.caller.platform_admin else self._own_tenant()

    def sees(self, tenant_id: str | None) -> bool:
        """Things with no tenant (held devices, hub events) are the platform administrators' only."""
        return self.caller.platform_admin or (tenant_id is not None and tenant_id == self.caller.tenant_id)

    def require(self, role: Role) -> None:
        if not self.caller.at_least(role):
            raise Forbidden(f"this needs the {role} role or higher")

    def _own_tenant(self) -> str:
        if self.caller.tenant_id is None:  # a non-admin without a tenant must see nothing, never everything
            raise Forbidden("this account belongs to no tenant")
        return self.caller.tenant_id

    # ------------------------------------------------------------------------------------------ views

    def tenants(self) -> list[Tenant]:
        return [tenant for tenant in self.hub.tenants.all() if self.sees(tenant.id)]

    def states(self, domain: str | None = None) -> list[State]:
        return self.hub.states.all(domain=domain, tenant_id=self.tenant_filter)

    def state(self, entity_id: str) -> State:
        state = self.hub.states.get(entity_id)
        if state is None or not self.sees(state.tenant_id):
            raise NotFound("entity", entity_id)
        return state

    def devices(self) -> list[Device]:
        return self.hub.devices.all(tenant_id=self.tenant_filter)

    def device(self, device_id: str) -> Device:
        device = self.hub.devices.get(device_id)
        if device is None or not self.sees(device.tenant_id):
            raise NotFound("device", device_id)
        return device

    def entries(self, domain: str | None = None) -> list[ConfigEntry]:
        return self.hub.config_entries.all(domain=domain, tenant_id=self.tenant_filter)

    def entry(self, entry_id: str) -> ConfigEntry:
        entry = self.hub.config_entries.get(entry_id)
        if entry is None or not self.sees(entry.tenant_id):
            raise NotFound("config entry", entry_id)
        return entry

    def event_visible(self, event: Event[Any]) -> bool:
        return self.sees(event.tenant_id)

    def health_summary(self) -> dict[str, Any]:
        return self.hub.health.summary(tenant_id=self.tenant_filter)

    def health_devices(self) -> list[DeviceHealth]:
        return self.hub.health.all(tenant_id=self.tenant_filter)

    def health_device(self, key: str) -> DeviceHealth:
        device = self.hub.health.get(key)
        if device is None or not self.sees(device.tenant_id):
            raise NotFound("health device", key)
        return device

    # -------------------------------------------------------------------------------------- services

    async def call_service(
        self,
        domain: str,
        service: str,
        data: dict[str, Any] | None = None,
        target: dict[str, Any] | None = None,
        *,
        blocking: bool = True,
        context: Context | None = None,
    ) -> Any:
        """Call a service as this caller: operators and above; targets checked by ``authorize_service_call``.

        ``context`` (made by ``caller.context()``) lets the caller know the call's context id; it must carry this
        caller's user and tenant, so it can never widen what the call may target.
        """
        self.require(Role.OPERATOR)
        own = self.caller.context()
        if context is None:
            context = own
        elif (context.user_id, context.tenant_id) != (own.user_id, own.tenant_id):
            raise Forbidden("the context of a call must be the caller's own")
        return await self.hub.services.call(domain, service, data, target=target, context=context, blocking=blocking)


def authorize_service_call(hub: Hub, call: ServiceCall) -> None:
    """Installed as ``hub.services.authorize``: a tenant's call may only target that tenant's things.

    Calls without a tenant in their context come from the hub itself or a platform administrator and may
    target anything. A handler that acts on more than its targets must scope itself by
    ``call.context.tenant_id``.
    """
    tenant_id = call.context.tenant_id if call.context is not None else None
    if tenant_id is None:
        return
    _check_owned(hub, tenant_id, call.entity_ids, call.device_ids)


def _check_owned(hub: Hub, tenant_id: str, entity_ids: Iterable[str], device_ids: Iterable[str]) -> None:
    for entity_id in entity_ids:
        state = hub.states.get(entity_id)
        if state is None or state.tenant_id != tenant_id:
            raise NotFound("entity", entity_id)
    for device_id in device_ids:
        device = hub.devices.get(device_id)
        if device is None or device.tenant_id != tenant_id:
            raise NotFound("device", device_id)
