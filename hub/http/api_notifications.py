"""Persistent notifications of the caller's tenant (made by automations' ``notify.persistent_notification``):
list, dismiss, and the snapshot taken when one was made.

A notification of another tenant does not exist here (404). Viewers read; operators dismiss.
"""

from __future__ import annotations

from aiohttp import web

from hub.auth.scope import NotFound, Role
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.pages.notifications import notification_manager
from hub.http.routing import ApiRoutes
from hub.notifications import Notification, NotificationManager

routes = ApiRoutes("notifications")


def notifications_of(request: web.Request) -> NotificationManager:
    """The hub's notification store (``hub.notifications``)."""
    store = notification_manager(hub_of(request))
    if store is None:
        raise ApiError(503, "notifications_unavailable", "notifications are not running")
    return store


def visible_notification(request: web.Request) -> Notification:
    """The notification named in the path, if it is the caller's tenant's (404 otherwise)."""
    notification_id = request.match_info["notification_id"]
    notification = notifications_of(request).get(notification_id)
    if notification is None or not scope_of(request).sees(notification.tenant_id):
        raise NotFound("notification", notification_id)
    return notification


@routes.api_route("GET", "/api/notifications", summary="Notifications of the caller's tenant, newest first")
async def get_notifications(request: web.Request) -> web.Response:
    scope = scope_of(request)
    items = [item for item in notifications_of(request).all(scope.tenant_filter) if scope.sees(item.tenant_id)]
    return json_response([item.as_dict() for item in items])


@routes.api_route(
    "POST", "/api/notifications/{notification_id}/dismiss", role=Role.OPERATOR, summary="Dismiss a notification"
)
async def dismiss_notification(request: web.Request) -> web.Response:
    notification = visible_notification(request)
    await notifications_of(request).dismiss(notification.id)
    await audit(request, "notification.dismiss", target=notification.id, tenant_id=notification.tenant_id)
    return json_response({"id": notification.id, "dismissed": True})


@routes.api_route("GET", "/api/notifications/{notification_id}/image", summary="The snapshot of a notification")
async def get_notification_image(request: web.Request) -> web.StreamResponse:
    """The JPEG taken from the camera when the notification was made; 404 when it has none."""
    notification = visible_notification(request)
    path = notifications_of(request).image_path(notification.id)
    if path is None or not path.is_file():
        raise NotFound("notification image", str(notification.id))
    return web.FileResponse(path, headers={"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=3600"})
