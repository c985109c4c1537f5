"""Visitors and their personal data, under the GDPR: consent is required (with its date) to keep anything,
a photo is optional, and erasure on request wipes every personal field and the photo while keeping the
visitor's sessions, anonymised (the station was used then, by nobody nameable), and the audit lines.

Photos come as base64 in the JSON body (JPEG or PNG, recognised by their signature, at most 512 KiB), are kept
in the database next to the visitor, and are served back only through the tenant-scoped API.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from hub.auth.scope import NotFound
from hub.ids import new_id

from .const import ACTION_VISITOR_CREATE, ACTION_VISITOR_ERASE, ACTION_VISITOR_UPDATE, MAX_PHOTO_BYTES
from .errors import InvalidInput
from .manager import StationManager, iso
from .store import VisitorRecord

PERSONAL_FIELDS = ("last_name", "first_name", "email", "phone", "id_document")
_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def decode_photo(value: str) -> tuple[bytes, str]:
    """Base64 (optionally a ``data:image/...;base64,`` URL) to bytes and their type; InvalidInput on ``photo``."""
    text = value.strip()
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    if len(text) > (MAX_PHOTO_BYTES * 4) // 3 + 8:
        raise InvalidInput("photo", f"the photo is larger than {MAX_PHOTO_BYTES // 1024} KiB")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("photo", "expected base64 of a JPEG or PNG image") from None
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInput("photo", f"the photo is larger than {MAX_PHOTO_BYTES // 1024} KiB")
    for signature, content_type in _SIGNATURES.items():
        if data.startswith(signature):
            return data, content_type
    raise InvalidInput("photo", "expected a JPEG or PNG image")


def visitor_dict(visitor: VisitorRecord) -> dict[str, Any]:
    return {
        "id": visitor.id,
        "tenant_id": visitor.tenant_id,
        "last_name": visitor.last_name,
        "first_name": visitor.first_name,
        "name": visitor.display_name,
        "email": visitor.email,
        "phone": visitor.phone,
        "id_document": visitor.id_document,
        "photo": visitor.photo_type is not None,
        "photo_url": f"/api/stations/visitors/{visitor.id}/photo" if visitor.photo_type is not None else None,
        "consent": visitor.consent,
        "consent_at": iso(visitor.consent_at),
        "erased": visitor.erased_at is not None,
        "erased_at": iso(visitor.erased_at),
        "created_at": iso(visitor.created_at),
        "updated_at": iso(visitor.updated_at),
    }


def _personal(values: Mapping[str, Any]) -> dict[str, Any]:
    fields = {key: values[key] for key in PERSONAL_FIELDS if key in values}
    if "photo" in values:
        if values["photo"] is None:
            fields["photo"], fields["photo_type"] = None, None
        else:
            fields["photo"], fields["photo_type"] = decode_photo(values["photo"])
    return fields


async def create_visitor(
    manager: StationManager, tenant_id: str, values: Mapping[str, Any], *, actor: str, client: str | None = None
) -> VisitorRecord:
    """Consent is required: ``consent`` true, ``consent_at`` when (default: now)."""
    if values.get("consent") is not True:
        raise InvalidInput("consent", "the visitor's consent is required (true), with its date")
    now = manager.clock()
    row = {
        "id": new_id(),
        "tenant_id": tenant_id,
        **{key: None for key in PERSONAL_FIELDS},
        **_personal(values),
        "consent": True,
        "consent_at": values.get("consent_at") or now,
        "erased_at": None,
        "created_at": now,
        "updated_at": now,
    }
    visitor = await manager.store.insert_visitor(row)
    await manager.log(tenant_id, actor, ACTION_VISITOR_CREATE, visitor_id=visitor.id,
                      details={"photo": visitor.photo_type is not None}, address=client)  # fmt: skip
    return visitor


async def update_visitor(
    manager: StationManager, visitor: VisitorRecord, values: Mapping[str, Any], *, actor: str, client: str | None = None
) -> VisitorRecord:
    """Change personal fields or the photo (null removes it). An erased visitor cannot be filled in again."""
    if visitor.erased_at is not None:
        raise InvalidInput("id", "this visitor's data was erased: create a new visitor with their consent")
    changes = _personal(values)
    if "consent_at" in values:
        changes["consent_at"] = values["consent_at"]
    if not changes:
        return visitor
    updated = await manager.store.update_visitor(visitor.id, **changes, updated_at=manager.clock())
    if updated is None:
        raise NotFound("visitor", visitor.id)
    # The audit line says what changed, never the new values (they are personal data).
    fields = sorted(key for key in changes if key != "photo_type")
    await manager.log(visitor.tenant_id, actor, ACTION_VISITOR_UPDATE, visitor_id=visitor.id,
                      details={"fields": fields}, address=client)  # fmt: skip
    return updated


async def erase_visitor(
    manager: StationManager, visitor: VisitorRecord, *, actor: str, client: str | None = None
) -> tuple[VisitorRecord, int]:
    """Wipe personal fields and photo; detach the visitor's sessions (kept, anonymised). Idempotent."""
    sessions = await manager.store.anonymise_visitor_sessions(visitor.id)
    if visitor.erased_at is not None:
        return visitor, sessions
    now = manager.clock()
    erased = await manager.store.update_visitor(
        visitor.id,
        **{key: None for key in PERSONAL_FIELDS},
        photo=None,
        photo_type=None,
        erased_at=now,
        updated_at=now,
    )
    if erased is None:
        raise NotFound("visitor", visitor.id)
    await manager.log(visitor.tenant_id, actor, ACTION_VISITOR_ERASE, visitor_id=visitor.id,
                      details={"sessions_anonymised": sessions}, address=client)  # fmt: skip
    return erased, sessions
