"""Tenants: the companies or sites that own devices, entities and config entries.

Issue 3 adds users, roles and tokens on top; this registry is the part the core needs (who owns what).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import select

from hub.exceptions import HubError
from hub.ids import new_id
from hub.store.database import Database
from hub.store.models import Tenant as TenantRow

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


class TenantCodeTaken(HubError):
    """Another tenant already uses that code."""


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    code: str
    name: str
    created_at: float


class TenantRegistry:
    """Every tenant, cached in memory (there are few) and written through to the database."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._by_id: dict[str, Tenant] = {}

    async def load(self) -> None:
        async with self._database.session() as session:
            rows = (await session.scalars(select(TenantRow))).all()
        self._by_id = {row.id: Tenant(row.id, row.code, row.name, row.created_at) for row in rows}

    def get(self, tenant_id: str) -> Tenant | None:
        return self._by_id.get(tenant_id)

    def get_by_code(self, code: str) -> Tenant | None:
        return next((tenant for tenant in self._by_id.values() if tenant.code == code), None)

    def all(self) -> list[Tenant]:
        return sorted(self._by_id.values(), key=lambda tenant: tenant.code)

    async def create(self, code: str, name: str | None = None) -> Tenant:
        """Create a tenant; ``code`` is lower-case letters, digits, '-' or '_' (2-64 characters), unique."""
        if not _CODE.match(code):
            raise ValueError(f"invalid tenant code {code!r}: use 2-64 lower-case letters, digits, '-' or '_'")
        if self.get_by_code(code) is not None:
            raise TenantCodeTaken(f"tenant code {code!r} is already taken")
        tenant = Tenant(new_id(), code, name or code, time.time())
        async with self._database.session() as session:
            session.add(TenantRow(id=tenant.id, code=tenant.code, name=tenant.name, created_at=tenant.created_at))
            await session.commit()
        self._by_id[tenant.id] = tenant
        return tenant

    async def ensure(self, code: str, name: str | None = None) -> Tenant:
        """The tenant with this code, created if it does not exist yet (demo data, tests, first run)."""
        return self.get_by_code(code) or await self.create(code, name)
