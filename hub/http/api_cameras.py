"""Camera media over HTTP: JPEG snapshots, MJPEG, live HLS (fMP4) and stream statistics, per tenant.

Paths follow Home Assistant's (``/api/camera_proxy/{entity_id}``, ``/api/camera_proxy_stream/{entity_id}``), so
its habits and cards carry over. Every route finds the camera through the caller's ``TenantScope``: another
tenant's camera does not exist (404). All of them read the one shared decoder of ``hub.streams``.
"""

from __future__ import annotations

import asyncio
import contextlib

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import NotFound
from hub.camera import DOMAIN as CAMERA_DOMAIN
from hub.camera import Camera
from hub.http import hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.routing import ApiRoutes, query_of
from hub.stream_consumers import StreamError
from hub.stream_frame import DEFAULT_JPEG_QUALITY
from hub.stream_hls import HlsUnsupported

routes = ApiRoutes("cameras")

MJPEG_BOUNDARY = "gatehouse-frame"
DEFAULT_MJPEG_FPS = 5.0
#: How long a request waits for the first picture of a camera whose stream is not open yet.
FIRST_FRAME_TIMEOUT = 15.0

_WIDTH = vol.All(vol.Coerce(int), vol.Range(min=16, max=7680))
SNAPSHOT_QUERY = vol.Schema(
    {
        vol.Optional("width", description="scale to this many pixels wide"): _WIDTH,
        vol.Optional("_", description="ignored: lets a page defeat caches when it refreshes an <img>"): str,
    }
)
MJPEG_QUERY = vol.Schema(
    {
        vol.Optional("width", description="scale to this many pixels wide"): _WIDTH,
        vol.Optional("fps", description="frames per second (default 5)"): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=30)
        ),
    }
)
INIT_QUERY = vol.Schema({vol.Optional("session", description="the stream session the playlist names"): vol.Coerce(int)})


def camera_of(request: web.Request) -> Camera:
    """The camera the path names, if the caller's tenant owns it (404 otherwise, whatever the reason)."""
    entity_id = request.match_info["entity_id"]
    scope_of(request).state(entity_id)
    entity = hub_of(request).entities.entity(entity_id)
    if not isinstance(entity, Camera):
        raise NotFound("camera", entity_id)
    return entity


def _unavailable(camera: Camera, error: StreamError) -> ApiError:
    return ApiError(503, "camera_unavailable", f"{camera.entity_id}: {error}")


@routes.api_route("GET", "/api/cameras", summary="The caller's cameras, with their stream statistics")
async def list_cameras(request: web.Request) -> web.Response:
    """Each camera entity the caller may see: state, name, PTZ support, and its stream's figures."""
    hub = hub_of(request)
    cameras = []
    for state in sorted(scope_of(request).states(CAMERA_DOMAIN), key=lambda state: state.entity_id):
        cameras.append(
            {
                "entity_id": state.entity_id,
                "name": state.attributes.get("friendly_name") or state.entity_id,
                "state": state.state,
                "supports_ptz": bool(state.attributes.get("supports_ptz")),
                "stream": hub.streams.stats(state.entity_id).as_dict(),
            }
        )
    return json_response(cameras)


@routes.api_route("GET", "/api/cameras/{entity_id}/stats", summary="A camera's stream statistics")
async def camera_stats(request: web.Request) -> web.Response:
    """Frames per second received and decoded, frames dropped, consumers, size, codec, last error."""
    camera = camera_of(request)
    return json_response(hub_of(request).streams.stats(camera.entity_id).as_dict())


@routes.api_route(
    "GET", "/api/camera_proxy/{entity_id}", summary="A JPEG of what the camera sees now", query=SNAPSHOT_QUERY
)
async def camera_snapshot(request: web.Request) -> web.Response:
    """The latest frame as JPEG (the stream opens on demand); 503 with the reason when the camera is down."""
    camera = camera_of(request)
    try:
        image = await camera.async_camera_image(query_of(request).get("width"))
    except StreamError as error:
        raise _unavailable(camera, error) from None
    if image is None:
        raise ApiError(503, "camera_unavailable", f"{camera.entity_id}: the camera gave no image")
    return web.Response(body=image, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


@routes.api_route(
    "GET", "/api/camera_proxy_stream/{entity_id}", summary="The camera as an MJPEG stream", query=MJPEG_QUERY
)
async def camera_mjpeg(request: web.Request) -> web.StreamResponse:
    """``multipart/x-mixed-replace`` JPEG frames at ``fps`` (default 5) until the client goes away."""
    camera = camera_of(request)
    query = query_of(request)
    width: int | None = query.get("width")
    fps: float = query.get("fps", DEFAULT_MJPEG_FPS)
    streams = hub_of(request).streams
    try:
        if await camera.stream_source() is None:
            first = await camera.async_camera_image(width)
            if first is None:
                raise StreamError("the camera gave no image")
        else:
            first = await (await streams.latest_frame(camera, timeout=FIRST_FRAME_TIMEOUT)).async_jpeg(width)
    except StreamError as error:
        raise _unavailable(camera, error) from None
    response = web.StreamResponse(
        headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}",
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):  # the viewer went away
        await _write_part(response, first)
        if await camera.stream_source() is None:
            await _poll_snapshots(response, camera, width, fps)
        else:
            async with streams.frames(camera, fps=fps) as frames:
                async for frame in frames:
                    await _write_part(response, await frame.async_jpeg(width, DEFAULT_JPEG_QUALITY))
    return response


async def _poll_snapshots(response: web.StreamResponse, camera: Camera, width: int | None, fps: float) -> None:
    """A snapshot-only camera's MJPEG: its own image, asked for ``fps`` times a second, until it fails."""
    hub = camera.hub
    while hub.is_running:
        await asyncio.sleep(1.0 / fps)
        try:
            image = await camera.async_camera_image(width)
        except StreamError:
            return
        if image is None:
            return
        await _write_part(response, image)


async def _write_part(response: web.StreamResponse, jpeg: bytes) -> None:
    header = f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    await response.write(header.encode() + jpeg + b"\r\n")


# -------------------------------------------------------------------------------------------------- HLS


def _hls_error(camera: Camera, error: StreamError) -> ApiError:
    if isinstance(error, HlsUnsupported):
        return ApiError(409, "unsupported_codec", f"{camera.entity_id}: {error}")
    return _unavailable(camera, error)


@routes.api_route("GET", "/api/hls/{entity_id}/playlist.m3u8", summary="Live HLS playlist (fMP4)", tags=["cameras"])
async def hls_playlist(request: web.Request) -> web.Response:
    """The live media playlist; the first request starts the stream and waits for its first segment."""
    camera = camera_of(request)
    if await camera.stream_source() is None:
        raise ApiError(409, "no_video_stream", f"{camera.entity_id} is a snapshot-only camera: it has no live video")
    session = await hub_of(request).streams.hls(camera)
    try:
        text = await session.playlist()
    except StreamError as error:
        raise _hls_error(camera, error) from None
    return web.Response(text=text, content_type="application/vnd.apple.mpegurl", headers={"Cache-Control": "no-cache"})


@routes.api_route("GET", "/api/hls/{entity_id}/init.mp4", summary="Live HLS init segment", query=INIT_QUERY)
async def hls_init(request: web.Request) -> web.Response:
    """The fMP4 init segment (``ftyp`` + ``moov``) of the current, or the named, stream session."""
    camera = camera_of(request)
    session = await hub_of(request).streams.hls(camera)
    try:
        data = await session.init_segment(query_of(request).get("session"))
    except StreamError as error:
        raise _hls_error(camera, error) from None
    except KeyError:
        raise ApiError(404, "segment_not_found", "that stream session is no longer kept") from None
    return web.Response(body=data, content_type="video/mp4", headers={"Cache-Control": "no-cache"})


@routes.api_route("GET", "/api/hls/{entity_id}/segment/{sequence}.m4s", summary="Live HLS media segment")
async def hls_segment(request: web.Request) -> web.Response:
    """One fMP4 media segment (``moof`` + ``mdat``); the next one is waited for, older ones are gone (404)."""
    camera = camera_of(request)
    try:
        sequence = int(request.match_info["sequence"])
    except ValueError:
        raise ApiError(400, "invalid_data", "the segment number must be a whole number", {"sequence": "int"}) from None
    session = await hub_of(request).streams.hls(camera)
    try:
        data = await session.segment(sequence)
    except StreamError as error:
        raise _hls_error(camera, error) from None
    if data is None:
        raise ApiError(404, "segment_not_found", f"segment {sequence} is not available (too old or too far ahead)")
    return web.Response(body=data, content_type="video/iso.segment", headers={"Cache-Control": "max-age=60"})
