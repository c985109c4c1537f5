"""The discovery REST API: manufacturers and their URL templates, URL generation, auto-detect, batch test, subnet
scan jobs and ONVIF WS-Discovery.

Reading the catalogue is for every signed-in user; anything that makes the hub connect to addresses (auto-detect,
batch test, scan, WS-Discovery) is for administrators, who are the ones adding cameras. Scan jobs belong to the
tenant that started them and are looked up through the caller's ``TenantScope`` (another tenant's job is 404).
Answers never carry a password: URLs are redacted (``***``), and the ``config`` of a result holds the entry
fields without it.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import NotFound, Role
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.routing import ApiRoutes, body_of

from .autodetect import auto_detect
from .batch import batch_test
from .const import CONNECTION_TYPES
from .profiles import PROFILES, profile_for
from .runtime import runtime_of
from .scan import DEFAULT_PORTS, DEFAULT_TIME_LIMIT, ScanJob, ScanRefused
from .schema import _host, _manufacturer
from .urls import generate_urls

routes = ApiRoutes("discovery")

_PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
_TIMEOUT = vol.All(vol.Coerce(float), vol.Range(min=0.5, max=60))


def _host_of(body: dict[str, Any], field: str = "host") -> str:
    """The seed's API says ``ip``; ours says ``host``. Either is accepted, one is required."""
    host = body.get("host") or body.get("ip")
    if not host:
        raise ApiError(400, "invalid_data", f"invalid data: {field}: required", {field: "required"})
    return str(host)


CAMERA_FIELDS: dict[Any, Any] = {
    vol.Optional("host", description="IP address or host name (required)"): _host,
    vol.Optional("ip", description="the same as host (the seed's name)"): _host,
    vol.Optional("port", description="RTSP port when it is not the brand's default"): _PORT,
    vol.Optional("http_port", description="HTTP port of snapshot/MJPEG templates when not the brand's"): _PORT,
    vol.Optional("onvif_port", description="ONVIF (HTTP) port; default: the brand's, else 80"): _PORT,
    vol.Optional("username", default=""): str,
    vol.Optional("password", default=""): str,
    vol.Optional("manufacturer"): _manufacturer,
    vol.Optional("channel", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=256)),
}
GENERATE_BODY = vol.Schema(
    {
        vol.Optional("host", description="IP address or host name (required)"): _host,
        vol.Optional("ip", description="the same as host"): _host,
        vol.Required("manufacturer"): _manufacturer,
        vol.Optional("username", default=""): str,
        vol.Optional("password", default=""): str,
        vol.Optional("channel", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=256)),
        vol.Optional("ports", default=dict, description='port per connection type, e.g. {"rtsp": 8554}'): {
            vol.In(CONNECTION_TYPES): _PORT
        },
    }
)
AUTO_DETECT_BODY = vol.Schema(
    {
        **CAMERA_FIELDS,
        vol.Optional("timeout", default=8.0, description="seconds per candidate stream"): _TIMEOUT,
        vol.Optional("onvif", default=True, description="ask ONVIF first"): bool,
    }
)
_BATCH_CAMERA = vol.Schema({**CAMERA_FIELDS, vol.Optional("name"): str})
_BATCH_URL = vol.Schema(
    {
        vol.Required("url"): vol.All(str, vol.Length(min=1, max=2048)),
        vol.Optional("username", default=""): str,
        vol.Optional("password", default=""): str,
        vol.Optional("rtsp_transport", default="tcp"): vol.In(("tcp", "udp")),
        vol.Optional("name"): str,
    }
)
BATCH_BODY = vol.Schema(
    {
        vol.Required("cameras"): vol.All([vol.Any(_BATCH_URL, _BATCH_CAMERA)], vol.Length(min=1, max=64)),
        vol.Optional("timeout", default=8.0): _TIMEOUT,
    }
)
SCAN_BODY = vol.Schema(
    {
        vol.Required("cidr", description="a private network, at most a /22 (1024 addresses)"): str,
        vol.Optional("ports", default=list(DEFAULT_PORTS)): vol.All([_PORT], vol.Length(min=1, max=32)),
        vol.Optional("time_limit", default=DEFAULT_TIME_LIMIT, description="seconds"): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=3600)
        ),
    }
)
ONVIF_DISCOVERY_BODY = vol.Schema(
    {
        vol.Optional("address", description="probe one host by unicast instead of the LAN by multicast"): _host,
        vol.Optional("port", default=3702): _PORT,
        vol.Optional("timeout", default=3.0): vol.All(vol.Coerce(float), vol.Range(min=0.2, max=10)),
    }
)


# ----------------------------------------------------------------------------------------------- catalogue


@routes.api_route("GET", "/api/discovery/manufacturers", summary="Camera manufacturers with URL templates")
async def list_manufacturers(request: web.Request) -> web.Response:
    return json_response([profile.as_dict() for profile in PROFILES])


@routes.api_route("GET", "/api/discovery/stream-templates/{manufacturer}", summary="A manufacturer's URL templates")
async def stream_templates(request: web.Request) -> web.Response:
    """Templates hold placeholders: ``{channel}`` (1-based), ``{channel0}`` (0-based), ``{channel2}`` (two
    digits), ``{username}`` / ``{password}`` for brands that take credentials in the query string."""
    name = request.match_info["manufacturer"]
    profile = profile_for(name)
    if profile is None:
        raise ApiError(404, "manufacturer_not_found", f"no manufacturer named {name!r}", {"manufacturer": "unknown"})
    return json_response(profile.as_dict(templates=True))


@routes.api_route(
    "POST",
    "/api/discovery/generate-urls",
    summary="Every URL a manufacturer's templates give for one camera (passwords redacted)",
    body=GENERATE_BODY,
)
async def generate(request: web.Request) -> web.Response:
    body = body_of(request)
    profile = profile_for(body["manufacturer"])
    assert profile is not None
    urls = generate_urls(profile, _host_of(body), username=body["username"], password=body["password"],
                         channel=body["channel"], ports=body["ports"])  # fmt: skip
    return json_response({"manufacturer": profile.key, "notes": profile.notes, "cloud_only": profile.cloud_only,
                          "urls": [url.as_dict() for url in urls]})  # fmt: skip


# ------------------------------------------------------------------------------------- probing the network


@routes.api_route(
    "POST",
    "/api/discovery/auto-detect",
    role=Role.ADMIN,
    summary="Find how a camera serves video: ONVIF first, then URL templates; every result and the best",
    body=AUTO_DETECT_BODY,
)
async def auto_detect_camera(request: web.Request) -> web.Response:
    """``recommended_config`` is the config entry data of the best result without the password: add the
    password and ``POST /api/config_entries`` with ``domain: cameras`` to add the camera."""
    body = body_of(request)
    detection = await auto_detect(
        runtime_of(hub_of(request)),
        host := _host_of(body),
        username=body["username"],
        password=body["password"],
        manufacturer=body.get("manufacturer"),
        port=body.get("port"),
        http_port=body.get("http_port"),
        onvif_port=body.get("onvif_port"),
        channel=body["channel"],
        timeout=body["timeout"],
        use_onvif=body["onvif"],
    )
    details = {"manufacturer": body.get("manufacturer"), "success": detection.recommended is not None}
    await audit(request, "cameras.auto_detect", target=host, details=details)
    return json_response(detection.as_dict())


@routes.api_route(
    "POST",
    "/api/discovery/batch-test",
    role=Role.ADMIN,
    summary="Test many cameras at once: URLs are measured, addresses auto-detected",
    body=BATCH_BODY,
)
async def batch(request: web.Request) -> web.Response:
    body = body_of(request)
    cameras = [
        camera if "url" in camera else {**camera, "host": _host_of(camera, f"cameras[{index}].host")}
        for index, camera in enumerate(body["cameras"])
    ]
    results = await batch_test(runtime_of(hub_of(request)), cameras, timeout=body["timeout"])
    return json_response({"results": results, "working": sum(1 for result in results if result["success"])})


def _job(request: web.Request) -> ScanJob:
    scope = scope_of(request)
    job_id = request.match_info["job_id"]
    job = runtime_of(hub_of(request)).scans.get(job_id)
    if job is None or not scope.sees(job.tenant_id):
        raise NotFound("scan", job_id)
    return job


@routes.api_route(
    "POST",
    "/api/discovery/scan",
    role=Role.ADMIN,
    summary="Start scanning a private subnet for cameras; answers the job to follow",
    body=SCAN_BODY,
    status=202,
)
async def start_scan(request: web.Request) -> web.Response:
    """At most a /22 of a private, loopback or link-local network; 409 when 4 scans already run."""
    body, scope = body_of(request), scope_of(request)
    try:
        job = runtime_of(hub_of(request)).scans.start(
            body["cidr"], tenant_id=scope.caller.tenant_id, ports=body["ports"], time_limit=body["time_limit"]
        )
    except ScanRefused as err:
        status, code = (409, "too_many_scans") if "running already" in str(err) else (400, "scan_refused")
        raise ApiError(status, code, str(err), {err.field: str(err)}) from None
    await audit(request, "cameras.scan", target=str(job.network), details={"ports": list(job.ports)})
    return json_response(job.as_dict(), status=202)


@routes.api_route("GET", "/api/discovery/scan", role=Role.ADMIN, summary="The caller's scan jobs")
async def list_scans(request: web.Request) -> web.Response:
    scope = scope_of(request)
    jobs = [job for job in runtime_of(hub_of(request)).scans.all() if scope.sees(job.tenant_id)]
    return json_response([job.as_dict() for job in sorted(jobs, key=lambda job: job.started_at, reverse=True)])


@routes.api_route("GET", "/api/discovery/scan/{job_id}", role=Role.ADMIN, summary="A scan's progress and finds")
async def get_scan(request: web.Request) -> web.Response:
    return json_response(_job(request).as_dict())


@routes.api_route("DELETE", "/api/discovery/scan/{job_id}", role=Role.ADMIN, summary="Stop a scan")
async def stop_scan(request: web.Request) -> web.Response:
    """The job stays readable, ``stopped``, with what it found so far."""
    job = _job(request)
    await runtime_of(hub_of(request)).scans.stop(job)
    return json_response(job.as_dict())


@routes.api_route(
    "POST",
    "/api/discovery/onvif",
    role=Role.ADMIN,
    summary="Find ONVIF cameras with WS-Discovery (the LAN by multicast, or one address)",
    body=ONVIF_DISCOVERY_BODY,
)
async def onvif_discovery(request: web.Request) -> web.Response:
    body = body_of(request)
    try:
        from integrations.onvif.discovery import async_discover
    except ImportError:
        raise ApiError(503, "onvif_unavailable", "the ONVIF integration is not installed") from None
    try:
        devices = await async_discover(timeout=body["timeout"], address=body.get("address"), port=body["port"])
    except OSError as err:
        raise ApiError(502, "discovery_failed", f"WS-Discovery could not be sent: {err}") from None
    return json_response([_discovered(device) for device in devices])


def _discovered(device: Any) -> dict[str, Any]:
    described: dict[str, Any] = device.as_dict()
    profile = profile_for(device.name or "") or profile_for((device.hardware or "").split(" ")[0])
    described["manufacturer"] = profile.key if profile else None
    return described


@hookimpl
def http_routes(hub: Hub) -> list[Any]:
    return list(routes)
