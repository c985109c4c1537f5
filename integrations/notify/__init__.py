"""Notifications: ``notify:`` in configuration.yaml names the webhooks automations may send messages to.

    notify:
      timeout: 10
      webhooks:
        ops: https://hooks.example.com/T000/B000
        site_a:
          url: https://hooks.example.com/site-a
          tenants: [site-a]

``notify.webhook`` (``name``, ``message``, ``title``, ``data``) posts JSON to the named URL. Persistent
notifications (``notify.persistent_notification``) are the core's (``hub.notifications``) and need no
configuration; this section starts them too, for hubs where the core has not yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.integration import Integration, IotClass
from hub.notifications import async_setup_notifications

from .webhook import DOMAIN, SERVICE_WEBHOOK, WEBHOOK_SCHEMA, Webhook, WebhookNotifier

__all__ = ["integration"]

DEFAULT_TIMEOUT = 10.0


def _url(value: Any) -> str:
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise vol.Invalid(f"expected an http(s) URL, got {value!r}")
    return text


_WEBHOOK = vol.Any(
    _url,
    vol.Schema({vol.Required("url"): _url, vol.Optional("tenants", default=list): [vol.Coerce(str)]}),
)

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("timeout", default=DEFAULT_TIMEOUT): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=120)),
        vol.Optional("webhooks", default=dict): {vol.Match(r"^[a-z0-9_]+$", msg="a lower-case name"): _WEBHOOK},
    }
)


@hookimpl
def integration() -> Integration:
    return Integration(
        domain=DOMAIN,
        name="Notifications",
        iot_class=IotClass.CALCULATED,
        config_schema=CONFIG_SCHEMA,
        async_setup=async_setup,
        documentation="Persistent dashboard notifications and webhooks for automations (docs/blueprints.md).",
    )


async def async_setup(hub: Hub, config: Mapping[str, Any]) -> None:
    await async_setup_notifications(hub)
    webhooks = {}
    for name, value in config["webhooks"].items():
        url, tenants = (value, []) if isinstance(value, str) else (value["url"], value["tenants"])
        webhooks[name] = Webhook(name, url, frozenset(tenants))
    notifier = WebhookNotifier(hub, webhooks, config["timeout"])
    hub.on_stop(notifier.close)
    hub.services.register(
        DOMAIN,
        SERVICE_WEBHOOK,
        notifier.async_handle,
        WEBHOOK_SCHEMA,
        description="POST a JSON message (title, message, data) to a webhook named in notify.webhooks",
    )
