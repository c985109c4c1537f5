"""The data of one camera's config entry, validated: fields per connection type, defaults from the brand.

A legacy bare ``rtsp_url`` (or any camera ``url``) is parsed into connection type, host, port, path and
credentials first, so the entry stores fields, and the password lands in ``password`` (encrypted at rest by the
core) instead of inside a URL. A missing ``path`` comes from the manufacturer's template for the chosen stream
and channel; every error names its field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from .const import (
    CONF_CHANNEL,
    CONF_CONNECTION_TYPE,
    CONF_HOST,
    CONF_MANUFACTURER,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PATH,
    CONF_PORT,
    CONF_RTSP_TRANSPORT,
    CONF_RTSP_URL,
    CONF_SNAPSHOT_URL,
    CONF_STREAM,
    CONF_TLS,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_TLS,
    CONNECTION_TYPES,
    DEFAULT_USB_DEVICE,
    INTEGRATION_NAME,
    NETWORK_TYPES,
    STREAM_MAIN,
    STREAMS,
    TRANSPORTS,
    TYPE_FILE,
    TYPE_HTTP_MJPEG,
    TYPE_HTTP_SNAPSHOT,
    TYPE_NVR_CHANNEL,
    TYPE_ONVIF,
    TYPE_RTSP,
    TYPE_RTSPS,
    TYPE_USB,
)
from .profiles import STREAM_MJPEG, STREAM_SNAPSHOT, manufacturer_keys, profile_for
from .urls import CameraUrlError, default_port, parse_camera_url

_HOST = re.compile(r"^[A-Za-z0-9._:\-\[\]%]+$")


def _host(value: Any) -> str:
    text = str(value).strip()
    if not text or not _HOST.match(text):
        raise vol.Invalid("expected a host name or an IP address (no scheme, path or spaces)")
    return text.strip("[]")


def _manufacturer(value: Any) -> str:
    profile = profile_for(str(value))
    if profile is None:
        raise vol.Invalid(f"unknown manufacturer {value!r}; known: {', '.join(manufacturer_keys())}")
    return profile.key


def _snapshot_url(value: Any) -> str:
    text = str(value).strip()
    if not re.match(r"^https?://[^/\s]+", text):
        raise vol.Invalid("expected an http:// or https:// URL")
    return text


FIELDS = vol.Schema(
    {
        vol.Optional(CONF_NAME): vol.All(str, vol.Strip, vol.Length(min=1, max=255)),
        vol.Required(CONF_CONNECTION_TYPE): vol.In(CONNECTION_TYPES),
        vol.Optional(CONF_HOST): _host,
        vol.Optional(CONF_PORT): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
        vol.Optional(CONF_PATH, default=""): vol.All(str, vol.Strip, vol.Length(max=2048)),
        vol.Optional(CONF_USERNAME, default=""): vol.All(str, vol.Length(max=255)),
        vol.Optional(CONF_PASSWORD, default=""): vol.All(str, vol.Length(max=255)),
        vol.Optional(CONF_MANUFACTURER, default="generic"): _manufacturer,
        vol.Optional(CONF_CHANNEL, default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=256)),
        vol.Optional(CONF_STREAM, default=STREAM_MAIN): vol.In(STREAMS),
        vol.Optional(CONF_RTSP_TRANSPORT, default="tcp"): vol.In(TRANSPORTS),
        vol.Optional(CONF_SNAPSHOT_URL, default=""): vol.Any("", _snapshot_url),
        vol.Optional(CONF_TLS, default=False): bool,
        vol.Optional(CONF_VERIFY_TLS, default=False): bool,
    }
)

#: The template stream each connection type takes its path from.
_TEMPLATE_STREAM = {TYPE_HTTP_MJPEG: STREAM_MJPEG, TYPE_HTTP_SNAPSHOT: STREAM_SNAPSHOT}


class CameraEntrySchema(vol.Schema):
    """``FIELDS`` (what the API documents) plus the URL shorthand and the checks that span several fields."""

    def __init__(self) -> None:
        super().__init__(FIELDS.schema)

    def __call__(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise vol.Invalid("expected a mapping")
        config: dict[str, Any] = expand_url(data)
        validated = dict(FIELDS(config))
        return complete(validated)


def expand_url(data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace ``rtsp_url`` / ``url`` by the fields it holds; fields given beside it win."""
    config = dict(data)
    for key in (CONF_RTSP_URL, CONF_URL):
        url = config.pop(key, None)
        if url is None:
            continue
        if not isinstance(url, str):
            raise vol.Invalid("expected a URL", path=[key])
        try:
            parsed = parse_camera_url(url)
        except CameraUrlError as err:
            raise vol.Invalid(str(err), path=[key]) from None
        for name, value in parsed.items():
            if config.get(name) in (None, ""):
                config[name] = value
    return config


def complete(config: dict[str, Any]) -> dict[str, Any]:
    """Per-type requirements and defaults: host for network types, port and path from the brand."""
    kind = config[CONF_CONNECTION_TYPE]
    profile = profile_for(config[CONF_MANUFACTURER])
    assert profile is not None  # _manufacturer validated it
    if kind in NETWORK_TYPES and not config.get(CONF_HOST):
        raise vol.Invalid(f"required for a {kind} camera", path=[CONF_HOST])
    if kind == TYPE_FILE:
        if not config[CONF_PATH].startswith("/"):
            raise vol.Invalid("expected the absolute path of a video file", path=[CONF_PATH])
        return config
    if kind == TYPE_USB:
        config[CONF_PATH] = config[CONF_PATH] or DEFAULT_USB_DEVICE
        if not config[CONF_PATH].startswith("/dev/"):
            raise vol.Invalid("expected a video device such as /dev/video0", path=[CONF_PATH])
        return config
    if kind == TYPE_ONVIF:
        config.setdefault(CONF_PORT, profile.onvif_port)
        return config
    if kind == TYPE_NVR_CHANNEL and profile.key == "generic" and not config[CONF_PATH]:
        raise vol.Invalid("an NVR channel needs the recorder's manufacturer (or a path)", path=[CONF_MANUFACTURER])
    template_type = TYPE_RTSP if kind in (TYPE_NVR_CHANNEL, TYPE_RTSPS) else kind
    templates = profile.templates_for(_TEMPLATE_STREAM.get(kind, config[CONF_STREAM]), template_type)
    if not config[CONF_PATH]:
        if not templates or profile.key == "generic":
            reason = profile.notes if profile.cloud_only else f"{profile.name} has no {kind} template to take it from"
            raise vol.Invalid(f"required: {reason}", path=[CONF_PATH])
        config[CONF_PATH] = templates[0].path
        if CONF_PORT not in config and templates[0].port:
            config[CONF_PORT] = templates[0].port
    if CONF_PORT not in config:
        if kind in (TYPE_RTSP, TYPE_NVR_CHANNEL, TYPE_HTTP_MJPEG, TYPE_HTTP_SNAPSHOT) and not config[CONF_TLS]:
            config[CONF_PORT] = profile.default_port(kind)
        else:
            config[CONF_PORT] = default_port(kind, tls=config[CONF_TLS])
    if not config[CONF_PATH].startswith("/"):
        config[CONF_PATH] = "/" + config[CONF_PATH]
    return config


def camera_name(title: str, config: Mapping[str, Any]) -> str:
    """What to call the camera: its ``name``, else the entry's title unless that is only the integration's
    name (entries added without a title), else where the camera is."""
    if config.get(CONF_NAME):
        return str(config[CONF_NAME])
    if title and title != INTEGRATION_NAME:
        return title
    where = config.get(CONF_HOST) or config.get(CONF_PATH) or "camera"
    return f"Camera {where}"


CONFIG_ENTRY_SCHEMA = CameraEntrySchema()
