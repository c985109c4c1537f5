"""Reading back what the recorder wrote: an entity's states over a time range, and recorded events.

Rows come back as the core's own State and Event objects, so the API and the dashboard format history exactly as
they format live data. ``event_records`` adds what the events API needs on top: the row id, the device, and
whether (and by whom) an operator acknowledged it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from hub.core import Context, Event, ReadOnlyDict, State
from hub.store.database import Database
from hub.store.models import EventAckRow, EventRow, StateRow

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


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """A recorded event with its row id, its device, and its acknowledgement (None until acknowledged)."""

    id: int
    event: Event[Any]
    device_id: str | None
    acknowledged_at: float | None
    acknowledged_by: str | None

    @property
    def tenant_id(self) -> str | None:
        return self.event.tenant_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.event.as_dict(),
            "device_id": self.device_id,
            "acknowledged": self.acknowledged_at is not None,
            "acknowledged_at": self.acknowledged_at,
            "acknowledged_by": self.acknowledged_by,
        }


def _records_query() -> Select[Any]:
    events_table, acks = EventRow.__table__.c, EventAckRow.__table__.c
    return select(
        events_table.id,
        events_table.event_type,
        events_table.data,
        events_table.time_fired,
        events_table.context_id,
        events_table.user_id,
        events_table.tenant_id,
        events_table.device_id,
        acks.acknowledged_at,
        acks.user_id,
    ).outerjoin(EventAckRow.__table__, acks.event_id == events_table.id)


def _record(row: Any) -> RecordedEvent:
    row_id, row_type, data, time_fired, context_id, user_id, tenant_id, device_id, acked_at, acked_by = row
    context = Context(id=context_id, user_id=user_id) if context_id or user_id else None
    return RecordedEvent(
        row_id, Event(row_type, json.loads(data), time_fired, context, tenant_id), device_id, acked_at, acked_by
    )


async def event_records(
    database: Database,
    *,
    event_type: str | None = None,
    device_id: str | None = None,
    start: float | None = None,
    end: float | None = None,
    acknowledged: bool | None = None,
    tenant_id: str | None = None,
    limit: int | None = 100,
) -> list[RecordedEvent]:
    """Recorded events (all but ``state_changed``, which live in ``states``), newest first, ``start <= t < end``."""
    table, acks = EventRow.__table__.c, EventAckRow.__table__.c
    query = _records_query().order_by(table.time_fired.desc(), table.id.desc())
    if event_type is not None:
        query = query.where(table.event_type == event_type)
    if device_id is not None:
        query = query.where(table.device_id == device_id)
    if start is not None:
        query = query.where(table.time_fired >= start)
    if end is not None:
        query = query.where(table.time_fired < end)
    if acknowledged is not None:
        query = query.where(acks.event_id.is_not(None) if acknowledged else acks.event_id.is_(None))
    if tenant_id is not None:
        query = query.where(table.tenant_id == tenant_id)
    if limit is not None:
        query = query.limit(limit)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [_record(row) for row in rows]


async def event_record(database: Database, event_id: int) -> RecordedEvent | None:
    query = _records_query().where(EventRow.__table__.c.id == event_id)
    async with database.engine.connect() as connection:
        row = (await connection.execute(query)).first()
    return None if row is None else _record(row)


async def acknowledge_event(database: Database, event_id: int, user_id: str | None) -> RecordedEvent | None:
    """Mark a recorded event acknowledged (the first acknowledgement stands); None when there is no such event."""
    try:
        async with database.session() as session:
            session.add(EventAckRow(event_id=event_id, user_id=user_id, acknowledged_at=time.time()))
            await session.commit()
    except IntegrityError:  # acknowledged already (or no such event, on databases that check the key)
        pass
    return await event_record(database, event_id)


def _attributes(text: str) -> ReadOnlyDict:
    if not text or text == "{}":
        return _NO_ATTRIBUTES
    value = json.loads(text)
    return ReadOnlyDict(value) if isinstance(value, dict) else ReadOnlyDict(value=value)
