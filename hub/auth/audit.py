"""The audit log: who signed in, claimed a device, opened a door or changed a user, and from where.

Entries are rare next to states and events, so each is written at once rather than batched; reading is per
tenant, newest first, a page at a time.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hub.auth.scope import Caller
from hub.store.database import Database
from hub.store.models import AuditRow

_LOGGER = logging.getLogger(__name__)

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    time: float
    tenant_id: str | None
    user_id: str | None
    user_name: str | None  # the username, or an API key's name
    action: str
    target: str | None
    details: dict[str, Any] | None
    address: str | None

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        details = json.loads(row.details) if row.details else None
        return cls(
            row.id, row.time, row.tenant_id, row.user_id, row.user_name, row.action, row.target, details, row.address
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "action": self.action,
            "target": self.target,
            "details": self.details,
            "address": self.address,
        }


class AuditLog:
    """Writes and pages through ``audit_log``."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(
        self,
        caller: Caller | None,
        action: str,
        *,
        target: str | None = None,
        details: dict[str, Any] | None = None,
        address: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Write one entry now. ``tenant_id`` defaults to the caller's; a failed write is logged, never raised,
        so the action it describes is not undone by a hiccup of the log."""
        row = AuditRow(
            time=time.time(),
            tenant_id=tenant_id if tenant_id is not None else (caller.tenant_id if caller is not None else None),
            user_id=caller.user_id if caller is not None else None,
            user_name=(caller.name or None) if caller is not None else None,
            action=action,
            target=target[:255] if target is not None else None,
            details=json.dumps(details, default=str, separators=(",", ":")) if details else None,
            address=address[:64] if address else None,
        )
        try:
            async with self._database.session() as session:
                session.add(row)
                await session.commit()
        except SQLAlchemyError:
            _LOGGER.exception("Audit entry %s by %s could not be written", action, row.user_name)

    async def entries(
        self,
        *,
        tenant_id: str | None = None,
        limit: int = 100,
        before: float | None = None,
        action: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first. ``tenant_id`` None means every tenant (platform administrators); ``before`` pages on:
        pass the ``time`` of the last entry of the previous page."""
        query = select(AuditRow).order_by(AuditRow.time.desc(), AuditRow.id.desc())
        if tenant_id is not None:
            query = query.where(AuditRow.tenant_id == tenant_id)
        if before is not None:
            query = query.where(AuditRow.time < before)
        if action is not None:
            query = query.where(AuditRow.action == action)
        query = query.limit(max(1, min(limit, MAX_PAGE)))
        async with self._database.session() as session:
            rows = (await session.scalars(query)).all()
        return [AuditEntry.from_row(row) for row in rows]
