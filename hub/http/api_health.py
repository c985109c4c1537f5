"""Device health as the caller's tenant sees it: the summary, each watched connection, and the two actions
an operator has when a device is down: check it now, or reconnect (forget the failures, restart the back-off).
"""

from __future__ import annotations

from aiohttp import web

from hub.auth.scope import Role
from hub.http import audit, json_response, scope_of
from hub.http.api_devices import health_as_dict
from hub.http.routing import ApiRoutes

routes = ApiRoutes("health")


@routes.api_route("GET", "/api/health/summary", summary="Device counts per health level and the average uptime")
async def get_health_summary(request: web.Request) -> web.Response:
    return json_response(scope_of(request).health_summary())


@routes.api_route("GET", "/api/health/devices", summary="Each watched device connection")
async def get_health_devices(request: web.Request) -> web.Response:
    """Level, response time, uptime, failures and the retry state, sorted by name."""
    devices = sorted(scope_of(request).health_devices(), key=lambda device: (device.name.lower(), device.key))
    return json_response([health_as_dict(device) for device in devices])


@routes.api_route("POST", "/api/health/devices/{key}/check-now", role=Role.OPERATOR, summary="Check a device now")
async def check_now(request: web.Request) -> web.Response:
    device = scope_of(request).health_device(request.match_info["key"])
    await device.check_now()
    return json_response(health_as_dict(device))


@routes.api_route("POST", "/api/health/devices/{key}/reconnect", role=Role.OPERATOR, summary="Reconnect a device")
async def reconnect(request: web.Request) -> web.Response:
    """Forget the failures, restart the back-off and check at once (also after automatic retries stopped)."""
    device = scope_of(request).health_device(request.match_info["key"])
    await device.reconnect()
    level = None if device.level is None else str(device.level)
    details = {"device_id": device.device_id, "level": level}
    await audit(request, "health.reconnect", target=device.key, tenant_id=device.tenant_id, details=details)
    return json_response(health_as_dict(device))
