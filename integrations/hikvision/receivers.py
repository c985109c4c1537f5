"""The two routes machines call without a user: a device's httpHosts push, and the gateway side's webhook.

``POST /api/hikvision/push/{token}``: a device in push mode posts each event here (access terminals as
``multipart/form-data`` with an ``event_log`` JSON part and maybe a picture, cameras as an XML body). The token
is unguessable (32 random bytes) and bound to one config entry, so it says which device and which tenant the
post belongs to; an unknown token is 404 (logged once). A body that is not an event is 400 with the reason.

``POST /api/hikvision/webhook/{gateway}``: signed with the gateway's ``webhook_secret`` (HMAC-SHA256 over
``"<timestamp>." + body``, headers ``X-Gatehouse-Timestamp`` and ``X-Gatehouse-Signature``). A bad or missing
signature, a timestamp more than 5 minutes away, or a request received before is 401 (logged once per reason).
"""

from __future__ import annotations

import logging

from aiohttp import web

from hub.http import hub_of, json_response
from hub.http.routing import public

from .const import DOMAIN
from .events import EventParseError, parse_event_log
from .listing import WebhookError
from .manager import manager_of
from .webhook_signature import HEADER_SIGNATURE, HEADER_TIMESTAMP, SignatureError

_LOGGER = logging.getLogger(__name__)

PUSH_PATH = f"/api/{DOMAIN}/push/{{token}}"
WEBHOOK_PATH = f"/api/{DOMAIN}/webhook/{{gateway}}"


def _error(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message, "fields": {}}}, status=status)


@public
async def receive_push(request: web.Request) -> web.Response:
    manager = manager_of(hub_of(request))
    direct = manager.direct_for_token(request.match_info["token"]) if manager is not None else None
    if manager is None or direct is None or direct.device is None or not direct.accepts_push:
        return _error(404, "not_found", "no device posts here")
    body = await request.read()
    try:
        event = parse_event_log(request.headers.get("Content-Type", ""), body)
    except EventParseError as err:
        manager.say_once(f"push {direct.entry.entry_id} {err.reason}", "Hikvision %s: skipped a pushed event: %s",
                         direct.serial, err.reason)  # fmt: skip
        return _error(400, "invalid_event", err.reason)
    await direct.device.handle_event(event, "push")
    return web.Response(text="OK")


@public
async def receive_webhook(request: web.Request) -> web.Response:
    name = request.match_info["gateway"]
    manager = manager_of(hub_of(request))
    gateway = manager.gateways.get(name) if manager is not None else None
    if manager is None or gateway is None:
        return _error(404, "not_found", f"no gateway named {name}")
    body = await request.read()
    try:
        result = await gateway.receive_webhook(
            body, request.headers.get(HEADER_TIMESTAMP), request.headers.get(HEADER_SIGNATURE)
        )
    except SignatureError as err:
        manager.say_once(f"webhook {name} {err.reason}", "Hikvision gateway %s: webhook refused from %s: %s", name,
                  request.remote, err.reason)  # fmt: skip
        return _error(401, "bad_signature", err.reason)
    except WebhookError as err:
        manager.say_once(f"webhook {name} {err}", "Hikvision gateway %s: webhook body refused: %s", name, err)
        return _error(400, "invalid_data", str(err))
    return json_response(result)


def receiver_routes() -> list[web.RouteDef]:
    return [web.post(PUSH_PATH, receive_push), web.post(WEBHOOK_PATH, receive_webhook)]
