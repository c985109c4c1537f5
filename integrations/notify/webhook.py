"""The webhook notifier: ``notify.webhook`` POSTs a JSON message to a URL named in configuration.yaml.

Automations name a webhook (``name: ops``), never a URL, so only the administrator of the hub decides where
messages may go; a webhook may be limited to some tenants. A failure (refused, timed out, an HTTP error) is
logged once per webhook until it works again, and the call answers ``{"delivered": false, "error": ...}``
rather than failing the automation's run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import voluptuous as vol

from hub.core import ServiceCall
from hub.exceptions import ServiceValidationError

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN = "notify"
SERVICE_WEBHOOK = "webhook"

WEBHOOK_SCHEMA = vol.Schema(
    {
        vol.Required("name"): vol.All(vol.Coerce(str), vol.Length(min=1)),
        vol.Required("message"): vol.All(vol.Coerce(str), vol.Length(min=1, max=4000)),
        vol.Optional("title"): vol.Any(None, vol.All(vol.Coerce(str), vol.Length(max=255))),
        vol.Optional("data"): vol.Any(None, dict),
    }
)


@dataclass(frozen=True, slots=True)
class Webhook:
    name: str
    url: str
    #: Tenant codes allowed to use it; empty: every tenant.
    tenants: frozenset[str]


class WebhookNotifier:
    """Sends ``notify.webhook`` calls; one HTTP session for all webhooks, closed with the hub."""

    def __init__(self, hub: Hub, webhooks: Mapping[str, Webhook], timeout: float) -> None:
        self.hub = hub
        self.webhooks = dict(webhooks)
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._failing: set[str] = set()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _allowed(self, webhook: Webhook, tenant_id: str | None) -> bool:
        if not webhook.tenants or tenant_id is None:
            return True
        tenant = self.hub.tenants.get(tenant_id)
        return tenant is not None and tenant.code in webhook.tenants

    async def async_handle(self, call: ServiceCall) -> dict[str, Any]:
        tenant_id = call.context.tenant_id if call.context is not None else None
        webhook = self.webhooks.get(call.data["name"])
        if webhook is None or not self._allowed(webhook, tenant_id):
            known = ", ".join(sorted(name for name, hook in self.webhooks.items() if self._allowed(hook, tenant_id)))
            reason = f"no webhook named {call.data['name']!r} in notify.webhooks (known: {known or 'none'})"
            raise ServiceValidationError(DOMAIN, SERVICE_WEBHOOK, {"name": reason})
        tenant = self.hub.tenants.get(tenant_id) if tenant_id is not None else None
        payload = {
            "title": call.data.get("title"),
            "message": call.data["message"],
            "data": call.data.get("data") or {},
            "tenant": tenant.code if tenant is not None else None,
            "time": time.time(),
        }
        return await self.send(webhook, payload)

    async def send(self, webhook: Webhook, payload: Mapping[str, Any]) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        try:
            async with self._session.post(webhook.url, json=payload) as response:
                status = response.status
                await response.read()
            error = None if status < 400 else f"HTTP {status}"
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
        except (aiohttp.ClientError, OSError) as err:
            error = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        except asyncio.CancelledError:
            raise
        if error is None:
            if webhook.name in self._failing:
                self._failing.discard(webhook.name)
                _LOGGER.info("Webhook %s works again", webhook.name)
            return {"delivered": True, "status": status}
        if webhook.name not in self._failing:
            self._failing.add(webhook.name)
            _LOGGER.warning("Webhook %s failed: %s (logged once until it works again)", webhook.name, error)
        return {"delivered": False, "error": error}
