"""Reading back what the recorder wrote: an entity's states over a time range, and recorded events.

Rows come back as the core's own State and Event objects, so the API and the dashboard format history exactly as
they format live data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from hub.core import Context, Event, ReadOnlyDict, State
from hub.store.database import Database
from hub.store.models import EventRow, StateRow

_NO_ATTRIBUTES = ReadOnlyDict()


async def state_history(
    database: Database,
    entity_id: str | Sequence[str],
    start: float,
    end: float | None = None,
    *,
    tenant_id: str | None = None,
    limit: int | None = None,
) -> list[State]:
    """States of one or more entities with ``start <= last_updated < end``, oldest first.

    ``tenant_id`` keeps only states owned by that tenant (what a tenant's user may see).
    """
    entity_ids = [entity_id] if isinstance(entity_id, str) else list(entity_id)
    table = StateRow.__table__.c
    query = select(
        table.entity_id,
        table.state,
        table.attributes,
        table.last_changed,
        table.last_updated,
        table.context_id,
        table.tenant_id,
    ).where(table.last_updated >= start)
    query = (
        query.where(table.entity_id == entity_ids[0])
        if len(entity_ids) == 1
        else query.where(table.entity_id.in_(entity_ids))
    )
    if end is not None:
        query = query.where(table.last_updated < end)
    if tenant_id is not None:
        query = query.where(table.tenant_id == tenant_id)
    query = query.order_by(table.last_updated, table.id)
    if limit is not None:
        query = query.limit(limit)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        State(
            row_entity_id,
            state,
            _attributes(attributes),
            last_changed,
            last_updated,
            Context(id=context_id) if context_id else None,
            row_tenant_id,
        )
        for row_entity_id, state, attributes, last_changed, last_updated, context_id, row_tenant_id in rows
    ]


async def events(
    database: Database,
    *,
    event_type: str | None = None,
    start: float | None = None,
    end: float | None = None,
    tenant_id: str | None = None,
    limit: int | None = 1000,
) -> list[Event[Any]]:
    """Recorded events (all but ``state_changed``, which live in ``states``), oldest first, ``start <= t < end``."""
    table = EventRow.__table__.c
    query = select(
        table.event_type, table.data, table.time_fired, table.context_id, table.user_id, table.tenant_id
    ).order_by(table.time_fired, table.id)
    if event_type is not None:
        query = query.where(table.event_type == event_type)
    if start is not None:
        query = query.where(table.time_fired >= start)
    if end is not None:
        query = query.where(table.time_fired < end)
    if tenant_id is not None:
        query = query.where(table.tenant_id == tenant_id)
    if limit is not None:
        query = query.limit(limit)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        Event(
            row_type,
            json.loads(data),
            time_fired,
            Context(id=context_id, user_id=user_id) if context_id or user_id else None,
            row_tenant_id,
        )
        for row_type, data, time_fired, context_id, user_id, row_tenant_id in rows
    ]


def _attributes(text: str) -> ReadOnlyDict:
    if not text or text == "{}":
        return _NO_ATTRIBUTES
    value = json.loads(text)
    return ReadOnlyDict(value) if isinstance(value, dict) else ReadOnlyDict(value=value)
