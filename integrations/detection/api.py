"""The detection REST API: events (list, detail, snapshot, clip, acknowledge), statistics and system load.

Every read goes through the caller's ``TenantScope``: the list and statistics are filtered by its
``tenant_filter``, and one event of another tenant answers 404 exactly like an absent one (``event_of``).
Viewers read; operators acknowledge (once: the first acknowledgement stands, and it goes to the audit log).
Media are read through the runtime's ``MediaStore`` by the keys the event row holds; clips honour HTTP
``Range`` requests so a ``<video>`` element can seek.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import NotFound, Role, TenantScope
from hub.core import Hub, valid_entity_id
from hub.hookspecs import hookimpl
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.params import boolean, limit, timestamp
from hub.http.routing import ApiRoutes, query_of

from .event import iso_time
from .media_store import MediaStoreError
from .models import DetectionEventRow
from .runtime import runtime_of
from .store import DetectionEventStore, UnknownCursor
from .system_stats import system_stats

__all__ = ["event_json", "event_of", "http_routes", "routes"]

routes = ApiRoutes("detection")

#: Most events one page of the list may hold.
MAX_EVENTS = 500
_EVENT_ID = re.compile(r"^[0-9a-f]{32}$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _entity_id(value: Any) -> str:
    text = str(value).strip()
    if not valid_entity_id(text):
        raise vol.Invalid("expected an entity id such as camera.gate")
    return text


def _event_id(value: Any) -> str:
    text = str(value).strip().lower()
    if not _EVENT_ID.match(text):
        raise vol.Invalid("expected an event id (32 hexadecimal characters)")
    return text


def store_of(hub: Hub) -> DetectionEventStore:
    return runtime_of(hub).store


def event_json(row: DetectionEventRow) -> dict[str, Any]:
    """An event as the API and the pages show it: ISO times, and the URLs of the media it still has."""
    base = f"/api/detection/events/{row.id}"
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "camera": row.camera,
        "label": row.label,
        "track_id": row.track_id,
        "start": iso_time(row.start),
        "end": None if row.end is None else iso_time(row.end),
        "last_seen": iso_time(row.last_seen),
        "duration": row.duration,
        "in_progress": row.end is None,
        "top_confidence": row.top_confidence,
        "zones": list(row.zones or []),
        "box": list(row.box or []),
        "snapshot": f"{base}/snapshot.jpg" if row.snapshot_key else None,
        "clean_snapshot": f"{base}/snapshot.jpg?clean=1" if row.clean_key else None,
        "clip": f"{base}/clip.mp4" if row.clip_key else None,
        "media_error": row.media_error,
        "end_reason": row.end_reason,
        "acknowledged": row.acknowledged_at is not None,
        "acknowledged_at": None if row.acknowledged_at is None else iso_time(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by,
    }


async def event_of(hub: Hub, scope: TenantScope, event_id: str) -> DetectionEventRow:
    """The event if the caller's tenant owns it; ``NotFound`` for absent, malformed and foreign ids alike."""
    row = await store_of(hub).get(event_id) if _EVENT_ID.match(event_id) else None
    if row is None or not scope.sees(row.tenant_id):
        raise NotFound("detection event", event_id)
    return row


# ---------------------------------------------------------------------------------------------- events

EVENTS_QUERY = vol.Schema(
    {
        vol.Optional("camera", description="camera entity id, e.g. camera.gate"): _entity_id,
        vol.Optional("label", description="what was seen, e.g. person"): vol.All(str, vol.Strip, vol.Lower),
        vol.Optional("since", description="events that started at or after this time"): timestamp,
        vol.Optional("until", description="events that started at or before this time"): timestamp,
        vol.Optional("acknowledged"): boolean,
        vol.Optional("limit", default=50): limit(MAX_EVENTS),
        vol.Optional("before", description="the next_before of the previous page"): _event_id,
    }
)


@routes.api_route("GET", "/api/detection/events", summary="Detection events, newest first", query=EVENTS_QUERY)
async def list_events(request: web.Request) -> web.Response:
    """``next_before`` is set when more events may follow: pass it as ``before`` for the next page."""
    query = query_of(request)
    scope = scope_of(request)
    try:
        rows = await store_of(hub_of(request)).query(tenant_id=scope.tenant_filter, **query)
    except UnknownCursor:
        raise ApiError(
            400, "invalid_query", "invalid query: before: no such event", {"before": "no such event"}
        ) from None
    events = [event_json(row) for row in rows]
    more = len(rows) == query["limit"]
    return json_response({"events": events, "next_before": rows[-1].id if more and rows else None})


@routes.api_route("GET", "/api/detection/events/{detection_id}", summary="One detection event")
async def get_event(request: web.Request) -> web.Response:
    row = await event_of(hub_of(request), scope_of(request), request.match_info["detection_id"])
    return json_response(event_json(row))


@routes.api_route(
    "POST",
    "/api/detection/events/{detection_id}/acknowledge",
    role=Role.OPERATOR,
    summary="Acknowledge a detection event",
)
async def acknowledge_event(request: web.Request) -> web.Response:
    """Answers the event with who acknowledged it and when; acknowledging again changes nothing."""
    hub, scope = hub_of(request), scope_of(request)
    row = await event_of(hub, scope, request.match_info["detection_id"])
    if row.acknowledged_at is None:
        row = await store_of(hub).acknowledge(row.id, scope.caller.user_id) or row
        await audit(request, "detection.event.acknowledge", target=row.id, tenant_id=row.tenant_id,
                    details={"camera": row.camera, "label": row.label})  # fmt: skip
    return json_response(event_json(row))


# ----------------------------------------------------------------------------------------------- media

SNAPSHOT_QUERY = vol.Schema(
    {
        vol.Optional("clean", default=False, description="the picture without the box drawn"): boolean,
        vol.Optional("_", description="ignored: lets a page defeat caches"): str,
    }
)


async def _media(hub: Hub, row: DetectionEventRow, key: str | None, what: str) -> bytes:
    if key is None:
        raise NotFound(what, row.id)
    try:
        return await runtime_of(hub).media.get(key)
    except KeyError:  # retention or an operator removed the file
        raise NotFound(what, row.id) from None
    except MediaStoreError as error:
        raise ApiError(503, "media_unavailable", f"the media store cannot answer: {error}") from None


def _etag(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'


def _not_modified(request: web.Request, etag: str) -> bool:
    wanted = request.headers.get("If-None-Match", "")
    return etag in (tag.strip() for tag in wanted.split(","))


@routes.api_route(
    "GET",
    "/api/detection/events/{detection_id}/snapshot.jpg",
    summary="The event's best snapshot (JPEG, box drawn; clean=1 without)",
    query=SNAPSHOT_QUERY,
)
async def event_snapshot(request: web.Request) -> web.StreamResponse:
    """An event in progress may get a better snapshot under the same URL: the ETag tells a cache."""
    hub = hub_of(request)
    row = await event_of(hub, scope_of(request), request.match_info["detection_id"])
    clean = query_of(request)["clean"]
    data = await _media(hub, row, row.clean_key if clean else row.snapshot_key, "snapshot")
    etag = _etag(data)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _not_modified(request, etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type="image/jpeg", headers=headers)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``(first, last)`` byte positions (inclusive) one ``Range: bytes=`` header asks for; None for the whole
    body (no header, or a form we do not serve, such as several ranges). ``ApiError`` 416 when unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # "bytes=-500": the last 500 bytes
        length = int(last_text)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        raise _unsatisfiable(size)
    return first, last


def _unsatisfiable(size: int) -> ApiError:
    return ApiError(
        416, "range_not_satisfiable", f"the clip has {size} bytes", headers={"Content-Range": f"bytes */{size}"}
    )


@routes.api_route("GET", "/api/detection/events/{detection_id}/clip.mp4", summary="The event's clip (MP4, seekable)")
async def event_clip(request: web.Request) -> web.StreamResponse:
    """Honours one ``Range: bytes=first-last`` (206 with ``Content-Range``), as a ``<video>`` element asks."""
    hub = hub_of(request)
    row = await event_of(hub, scope_of(request), request.match_info["detection_id"])
    data = await _media(hub, row, row.clip_key, "clip")
    size = len(data)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600", "ETag": _etag(data)}
    wanted = byte_range(request.headers.get("Range"), size)
    if wanted is None:
        return web.Response(body=data, content_type="video/mp4", headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return web.Response(body=data[first : last + 1], status=206, content_type="video/mp4", headers=headers)


# ---------------------------------------------------------------------------------------------- stats

STATS_QUERY = vol.Schema(
    {
        vol.Optional("since", description="window start (default: 24 hours before until)"): timestamp,
        vol.Optional("until", description="window end (default: now)"): timestamp,
        vol.Optional("camera", description="only this camera's events"): _entity_id,
    }
)


@routes.api_route(
    "GET",
    "/api/detection/stats",
    summary="Detection events per camera, per label and per hour over a window",
    query=STATS_QUERY,
)
async def detection_stats(request: web.Request) -> web.Response:
    """Counts events by start time in ``[since, until)``; ``hours`` lists every UTC hour of the window (at most
    31 days), zeros included, so a chart needs no filling."""
    query = query_of(request)
    try:
        stats = await store_of(hub_of(request)).stats(
            tenant_id=scope_of(request).tenant_filter,
            since=query.get("since"),
            until=query.get("until"),
            camera=query.get("camera"),
        )
    except ValueError as error:
        raise ApiError(400, "invalid_query", f"invalid query: since: {error}", {"since": str(error)}) from None
    return json_response(stats)


def _visible_camera(scope: TenantScope, camera: str) -> bool:
    try:
        scope.state(camera)
    except NotFound:
        return False
    return True


async def system_view(hub: Hub, scope: TenantScope) -> dict[str, Any]:
    """The machine (CPU, memory, GPU), the caller's cameras' pipelines, and (platform administrators, as the
    models serve every tenant) the shared detector pools."""
    runtime = runtime_of(hub)
    data = await hub.run_in_executor(system_stats)
    data["cameras"] = {
        camera: stats for camera, stats in sorted(runtime.camera_stats().items()) if _visible_camera(scope, camera)
    }
    data["pools"] = runtime.pool_stats() if scope.caller.platform_admin else []
    return data


@routes.api_route("GET", "/api/detection/system", summary="CPU, memory, GPU and detection pipeline load on this hub")
async def detection_system(request: web.Request) -> web.Response:
    """``gpu`` is null without an NVIDIA GPU; ``cameras`` holds each of the caller's cameras' pipeline figures
    (fps, skipped frames, inference ms); ``pools`` the shared models (platform administrators only)."""
    return json_response(await system_view(hub_of(request), scope_of(request)))


@hookimpl
def http_routes(hub: Hub) -> list[Any]:
    """The declarations as they are: the hub mounts them with their roles, schemas and OpenAPI entries."""
    return list(routes)
