"""Visitors over REST: GDPR consent required with its date, an optional photo served back only to the tenant,
search, and erasure on request that wipes the person and keeps their sessions anonymised."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

from hub.testing.http import assert_error

from .station_support import Desk, desk

__all__ = ["desk"]


def png(width: int = 2, height: int = 2) -> bytes:
    """A real, tiny PNG (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


ALICE: dict[str, Any] = {
    "last_name": "Durand",
    "first_name": "Alice",
    "email": "alice@example.org",
    "phone": "+33 1 23 45 67 89",
    "id_document": "ID card 123456",
    "consent": True,
    "consent_at": "2026-11-20T09:30:00Z",
}


async def test_consent_is_required_with_its_date(desk: Desk) -> None:
    api = desk.operator.api
    for consent in (False, None, "yes"):
        status, body = await api.post("/api/stations/visitors", {**ALICE, "consent": consent})
        assert status == 400 and list(body["error"]["fields"]) == ["consent"], body
    status, body = await api.post("/api/stations/visitors", {key: v for key, v in ALICE.items() if key != "consent"})
    assert status == 400 and "consent" in body["error"]["fields"]

    status, visitor = await api.post("/api/stations/visitors", ALICE)
    assert status == 201, visitor
    assert (visitor["name"], visitor["consent"], visitor["consent_at"]) == (
        "Alice Durand",
        True,
        "2026-11-20T09:30:00+00:00",
    )
    status, undated = await api.post("/api/stations/visitors", {"last_name": "Martin", "consent": True})
    assert status == 201 and undated["consent_at"] is not None  # consent given now


async def test_bad_fields_are_named(desk: Desk) -> None:
    api = desk.operator.api
    for field, value in (("email", "not-an-email"), ("phone", "call me"), ("last_name", ""), ("photo", "@@@")):
        status, body = await api.post("/api/stations/visitors", {**ALICE, field: value})
        assert status == 400 and list(body["error"]["fields"]) == [field], (field, body)
    gif = base64.b64encode(b"GIF89a" + b"\x00" * 20).decode()
    status, body = await api.post("/api/stations/visitors", {**ALICE, "photo": gif})
    assert status == 400 and body["error"]["fields"] == {"photo": "expected a JPEG or PNG image"}
    huge = base64.b64encode(b"\xff\xd8\xff" + b"\x00" * 600_000).decode()
    status, body = await api.post("/api/stations/visitors", {**ALICE, "photo": huge})
    assert status in (400, 413), body
    assert status == 413 or "512 KiB" in body["error"]["fields"]["photo"]


async def test_a_photo_is_stored_and_served_only_to_the_tenant(desk: Desk) -> None:
    api = desk.operator.api
    image = png()
    photo = "data:image/png;base64," + base64.b64encode(image).decode()
    status, visitor = await api.post("/api/stations/visitors", {**ALICE, "photo": photo})
    assert status == 201 and visitor["photo"] is True

    async with api.session.get(api.base_url + visitor["photo_url"], headers=api.headers) as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert await response.read() == image
    status, _ = await desk.intruder.get(visitor["photo_url"])
    assert status == 404
    status, _ = await api.request("GET", visitor["photo_url"], headers={"Authorization": ""})
    assert status == 401

    status, updated = await api.request("PUT", f"/api/stations/visitors/{visitor['id']}", json={"photo": None})
    assert status == 200 and updated["photo"] is False and updated["photo_url"] is None
    status, body = await api.get(visitor["photo_url"])
    assert status == 404
    assert_error(body, "photo_not_found")


async def test_search_and_update(desk: Desk) -> None:
    api = desk.operator.api
    await api.post("/api/stations/visitors", ALICE)
    await api.post("/api/stations/visitors", {"last_name": "Martin", "first_name": "Bob", "consent": True})
    status, found = await api.get("/api/stations/visitors?q=dura")
    assert [visitor["last_name"] for visitor in found] == ["Durand"]
    status, found = await api.get("/api/stations/visitors?q=123456")
    assert [visitor["last_name"] for visitor in found] == ["Durand"]
    status, everyone = await desk.viewer.get("/api/stations/visitors")
    assert [visitor["last_name"] for visitor in everyone] == ["Durand", "Martin"]

    visitor_id = found[0]["id"]
    status, updated = await api.request("PUT", f"/api/stations/visitors/{visitor_id}", json={"phone": "+33 6 00"})
    assert (status, updated["phone"], updated["email"]) == (200, "+33 6 00", "alice@example.org")
    status, _ = await desk.viewer.request("PUT", f"/api/stations/visitors/{visitor_id}", json={"phone": "1"})
    assert status == 403
    (log,) = [line for line in (await api.get("/api/stations/logs?action=visitor.update"))[1]]
    assert log["details"] == {"fields": ["phone"]}  # what changed, never the personal data itself


async def test_erasure_on_request_keeps_anonymised_sessions(desk: Desk) -> None:
    api = desk.operator.api
    status, visitor = await api.post("/api/stations/visitors", {**ALICE, "photo": base64.b64encode(png()).decode()})
    status, session = await api.post("/api/stations/sessions", {"minutes": 30, "visitor_id": visitor["id"]})
    assert session["visitor"] == "Alice Durand"

    status, body = await api.delete(f"/api/stations/visitors/{visitor['id']}")
    assert status == 403  # erasure is an administrator's act
    status, erased = await desk.admin.delete(f"/api/stations/visitors/{visitor['id']}")
    assert status == 200, erased
    assert erased["erased"] is True and erased["sessions_anonymised"] == 1
    for field in ("last_name", "first_name", "name", "email", "phone", "id_document", "photo_url"):
        assert erased[field] is None, field
    status, _ = await api.get(visitor["photo_url"])
    assert status == 404

    status, kept = await api.get(f"/api/stations/sessions/{session['id']}")
    assert (status, kept["visitor_id"], kept["visitor"], kept["minutes"]) == (200, None, None, 30)
    status, listed = await api.get("/api/stations/visitors")
    assert listed == []
    status, logs = await api.get(f"/api/stations/logs?visitor={visitor['id']}")
    assert [log["action"] for log in logs] == ["visitor.erase", "session.create", "visitor.create"]
    assert "Durand" not in str(logs) and "alice@" not in str(logs)
    status, body = await api.request("PUT", f"/api/stations/visitors/{visitor['id']}", json={"last_name": "Back"})
    assert status == 400 and "erased" in str(body)
    status, body = await api.post("/api/stations/sessions", {"minutes": 30, "visitor_id": visitor["id"]})
    assert status == 400 and list(body["error"]["fields"]) == ["visitor_id"]


async def test_another_tenants_visitors_do_not_exist(desk: Desk) -> None:
    status, visitor = await desk.operator.api.post("/api/stations/visitors", ALICE)
    intruder = desk.intruder
    assert (await intruder.get("/api/stations/visitors"))[1] == []
    for method, body in (("GET", None), ("PUT", {"last_name": "Mine"})):
        status, answer = await intruder.request(method, f"/api/stations/visitors/{visitor['id']}", json=body)
        assert status == 404, answer
    status, answer = await intruder.post("/api/stations/sessions", {"minutes": 5, "visitor_id": visitor["id"]})
    assert status == 400 and answer["error"]["fields"] == {"visitor_id": "no such visitor"}
    status, answer = await desk.intruder.post("/api/stations/visitors", {**ALICE, "tenant_id": desk.library.id})
    assert status == 404
    status, still = await desk.operator.api.get(f"/api/stations/visitors/{visitor['id']}")
    assert still["last_name"] == "Durand"
