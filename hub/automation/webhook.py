"""The ``webhook`` trigger platform and its public route, ``POST /api/webhook/{webhook_id}``.

The webhook id is the secret: whoever knows it may trigger the automation, so make it long and random. The
route answers 200 whatever the id (as Home Assistant does), so probing ids learns nothing. The body is read as
JSON (``trigger.json``) or as a form (``trigger.data``); the query string is ``trigger.query``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.automation.triggers import Detach, TriggerContext, TriggerPlatform
from hub.core import Hub
from hub.http.routing import public

_LOGGER = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhook/{webhook_id}"
METHODS = ("GET", "HEAD", "POST", "PUT")

WebhookHandler = Callable[[dict[str, Any]], None]

WEBHOOK_SCHEMA = vol.Schema(
    {
        vol.Required("webhook_id"): vol.All(
            str, vol.Match(r"^[A-Za-z0-9_\-]{1,200}$", msg="use letters, digits, '-' and '_'")
        ),
        vol.Optional("allowed_methods", default=["POST", "PUT"]): [vol.In(METHODS)],
        vol.Optional("local_only"): bool,
    }
)


class Webhooks:
    """Webhook id -> the trigger listening on it; one listener per id across the whole hub."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[frozenset[str], WebhookHandler]] = {}

    def register(self, webhook_id: str, methods: frozenset[str], handler: WebhookHandler) -> Detach:
        if webhook_id in self._handlers:
            raise ValueError(f"webhook id {webhook_id!r} is already used by another automation")
        entry = (methods, handler)
        self._handlers[webhook_id] = entry

        def unregister() -> None:
            if self._handlers.get(webhook_id) is entry:
                del self._handlers[webhook_id]

        return unregister

    def get(self, webhook_id: str) -> tuple[frozenset[str], WebhookHandler] | None:
        return self._handlers.get(webhook_id)


def webhooks_of(hub: Hub) -> Webhooks:
    webhooks = hub.data.get("automation.webhooks")
    if not isinstance(webhooks, Webhooks):
        webhooks = hub.data["automation.webhooks"] = Webhooks()
    return webhooks


def attach_webhook(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    webhook_id = config["webhook_id"]

    def received(variables: dict[str, Any]) -> None:
        context.fire({**variables, "webhook_id": webhook_id, "description": f"webhook {webhook_id}"}, None)

    return webhooks_of(hub).register(webhook_id, frozenset(config["allowed_methods"]), received)


async def _read_body(request: web.Request) -> dict[str, Any]:
    variables: dict[str, Any] = {"query": dict(request.query), "json": None, "data": None}
    if not request.can_read_body:
        return variables
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        variables["data"] = {key: value for key, value in form.items() if isinstance(value, str)}
        return variables
    text = await request.text()
    if text:
        try:
            variables["json"] = json.loads(text)
        except ValueError:
            variables["data"] = text
    return variables


def routes(hub: Hub) -> list[web.RouteDef]:
    @public
    async def webhook(request: web.Request) -> web.Response:
        webhook_id = request.match_info["webhook_id"]
        entry = webhooks_of(hub).get(webhook_id)
        if entry is None or request.method not in entry[0]:
            return web.json_response({})
        try:
            variables = await _read_body(request)
        except Exception as error:  # a malformed multipart body
            _LOGGER.warning("Webhook %s: unreadable body: %s", webhook_id, error)
            return web.json_response({"message": "unreadable body"}, status=400)
        entry[1](variables)
        return web.json_response({})

    return [web.route(method, WEBHOOK_PATH, webhook) for method in ("GET", "POST", "PUT")]


PLATFORMS = [TriggerPlatform("webhook", WEBHOOK_SCHEMA, attach_webhook, "a request to /api/webhook/<webhook_id>")]
