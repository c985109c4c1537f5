"""The two ways Hikvision devices are configured, and their schemas.

``hikvision:`` in configuration.yaml belongs to the platform administrator: the Hik Device Gateways that ISUP
devices register to (the hub syncs their device list and claims match on serial numbers), the push address and
the history window. A directly reachable ISAPI device (camera, NVR, access terminal) is a config entry that a
tenant adds: host, credentials and how its events arrive (``stream``, ``push`` or ``none``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from .const import (
    CONF_BACKFILL_HOURS,
    CONF_EVENT_MODE,
    CONF_EVENT_TIMEOUT,
    CONF_GATEWAYS,
    CONF_HOST,
    CONF_HTTPS,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_POLL_INTERVAL,
    CONF_PORT,
    CONF_PUSH_URL,
    CONF_SYNC_INTERVAL,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    CONF_WEBHOOK_SECRET,
    DEFAULT_BACKFILL_HOURS,
    DEFAULT_EVENT_TIMEOUT,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_SYNC_INTERVAL,
    EVENT_MODE_STREAM,
    EVENT_MODES,
)

_GATEWAY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_HOST = re.compile(r"^[A-Za-z0-9._:\-\[\]]+$")


def http_url(value: Any) -> str:
    """An ``http://`` or ``https://`` URL with a host, without a trailing slash."""
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise vol.Invalid("expected an http:// or https:// URL with a host, such as http://192.0.2.20:88")
    if parts.username or parts.password:
        raise vol.Invalid("put the user name and password in their own keys, not in the URL")
    return text.rstrip("/")


def gateway_name(value: Any) -> str:
    text = str(value).strip()
    if not _GATEWAY_NAME.match(text):
        raise vol.Invalid("expected lower-case letters, digits, '-' or '_' (it appears in the webhook URL)")
    return text


def host(value: Any) -> str:
    """A host name or address, without scheme, path or credentials (``192.0.2.30``, ``door.example``)."""
    text = str(value).strip()
    if "://" in text or "/" in text or "@" in text:
        raise vol.Invalid("expected a host name or IP address only, such as 192.0.2.30 (no http://, path or user)")
    if not text or not _HOST.match(text):
        raise vol.Invalid("expected a host name or IP address, such as 192.0.2.30")
    return text.strip("[]")


def _unique_names(gateways: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = [gateway[CONF_NAME] for gateway in gateways]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise vol.Invalid(f"gateway name {name!r} is used twice", path=[index, CONF_NAME])
    return gateways


_SECONDS = vol.All(vol.Coerce(float), vol.Range(min=0.05, max=86400))
_TEXT = vol.All(vol.Coerce(str), vol.Length(min=1, max=255))

GATEWAY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): gateway_name,
        vol.Required(CONF_URL): http_url,
        vol.Optional(CONF_USERNAME, default="admin"): _TEXT,
        vol.Required(CONF_PASSWORD): _TEXT,
        vol.Optional(CONF_SYNC_INTERVAL, default=DEFAULT_SYNC_INTERVAL): _SECONDS,
        vol.Optional(CONF_WEBHOOK_SECRET): vol.All(vol.Coerce(str), vol.Length(min=16, max=512)),
        vol.Optional(CONF_VERIFY_SSL, default=True): bool,
    }
)

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_GATEWAYS, default=list): vol.All([GATEWAY_SCHEMA], _unique_names),
        vol.Optional(CONF_PUSH_URL): http_url,
        vol.Optional(CONF_BACKFILL_HOURS, default=DEFAULT_BACKFILL_HOURS): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=24 * 366)
        ),
        vol.Optional(CONF_EVENT_TIMEOUT, default=DEFAULT_EVENT_TIMEOUT): _SECONDS,
    }
)


class _EntrySchema(vol.Schema):
    """A plain field dict (the dashboard builds its form from it) that also checks the host's shape."""

    def __call__(self, data: Any) -> Any:
        validated = super().__call__(data)
        try:
            validated[CONF_HOST] = host(validated[CONF_HOST])
        except vol.Invalid as err:
            raise vol.MultipleInvalid([vol.Invalid(err.msg, path=[CONF_HOST])]) from None
        return validated


ENTRY_SCHEMA = _EntrySchema(
    {
        vol.Required(CONF_HOST, description="IP address or host name of the device"): vol.All(
            str, vol.Length(min=1, max=255)
        ),
        vol.Optional(CONF_PORT, description="80, or 443 with https"): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=65535)
        ),
        vol.Optional(CONF_HTTPS, default=False): bool,
        vol.Optional(CONF_USERNAME, default="admin"): vol.All(str, vol.Length(min=1, max=255)),
        vol.Required(CONF_PASSWORD): vol.All(str, vol.Length(min=1, max=255)),
        vol.Optional(CONF_NAME): vol.All(str, vol.Length(min=1, max=255)),
        vol.Optional(
            CONF_EVENT_MODE,
            default=EVENT_MODE_STREAM,
            description="stream: the hub follows alertStream; push: the device posts to the hub; none",
        ): vol.In(EVENT_MODES),
        vol.Optional(CONF_VERIFY_SSL, default=True): bool,
        vol.Optional(CONF_POLL_INTERVAL, default=DEFAULT_POLL_INTERVAL): vol.All(
            vol.Coerce(float), vol.Range(min=0.05, max=3600)
        ),
    }
)


def device_base_url(data: dict[str, Any] | Any) -> str:
    """``http(s)://host:port`` of a configured device (IPv6 literals bracketed)."""
    address = str(data[CONF_HOST])
    if ":" in address:
        address = f"[{address}]"
    https = bool(data.get(CONF_HTTPS))
    port = data.get(CONF_PORT) or (443 if https else 80)
    return f"{'https' if https else 'http'}://{address}:{int(port)}"
