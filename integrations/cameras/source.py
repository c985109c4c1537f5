"""Where a configured camera's video and stills come from: the URL PyAV opens, its options, the snapshot URL.

An entry's fields (``schema``) become a ``CameraSource``; ONVIF cameras get theirs from the camera itself
(``onvif_source``, through the ONVIF integration's ``probe_onvif``) when the entry is set up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.redact import redact_url

from .const import (
    CONF_CHANNEL,
    CONF_CONNECTION_TYPE,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PATH,
    CONF_PORT,
    CONF_RTSP_TRANSPORT,
    CONF_SNAPSHOT_URL,
    CONF_TLS,
    CONF_USERNAME,
    CONF_VERIFY_TLS,
    RTSP_TYPES,
    TYPE_FILE,
    TYPE_HTTP_MJPEG,
    TYPE_HTTP_SNAPSHOT,
    TYPE_USB,
)
from .urls import build_url, fill_template, scheme_for, with_credentials


@dataclass(frozen=True, slots=True)
class CameraSource:
    """What the stream manager and the snapshot code need. URLs here carry credentials: ``describe`` does not."""

    connection_type: str
    stream_url: str | None  # None: a snapshot-only camera
    stream_options: Mapping[str, str] = field(default_factory=dict)
    stream_format: str | None = None
    snapshot_url: str | None = None  # without userinfo: ``username``/``password`` go in the HTTP auth
    username: str = ""
    password: str = ""
    verify_tls: bool = False

    def describe(self) -> dict[str, Any]:
        """Safe to log and return: URLs redacted, no password."""
        return {
            "connection_type": self.connection_type,
            "stream_url": redact_url(self.stream_url) if self.stream_url else None,
            "stream_format": self.stream_format,
            "snapshot_url": redact_url(self.snapshot_url) if self.snapshot_url else None,
        }


def _network_url(config: Mapping[str, Any], *, credentials: bool) -> str:
    kind = config[CONF_CONNECTION_TYPE]
    template = str(config[CONF_PATH])
    username, password = config.get(CONF_USERNAME, ""), config.get(CONF_PASSWORD, "")
    in_query = "{username}" in template or "{password}" in template
    path = fill_template(template, channel=config.get(CONF_CHANNEL, 1), username=username, password=password)
    with_userinfo = credentials and not in_query
    return build_url(
        scheme_for(kind, tls=bool(config.get(CONF_TLS))),
        config[CONF_HOST],
        config.get(CONF_PORT),
        path,
        username=username if with_userinfo else "",
        password=password if with_userinfo else "",
    )


def source_for(config: Mapping[str, Any]) -> CameraSource:
    """The source of a validated entry (not ONVIF: see ``onvif_source``)."""
    kind = config[CONF_CONNECTION_TYPE]
    username, password = config.get(CONF_USERNAME, ""), config.get(CONF_PASSWORD, "")
    auth = {"username": username, "password": password, "verify_tls": bool(config.get(CONF_VERIFY_TLS))}
    snapshot = config.get(CONF_SNAPSHOT_URL) or None
    if kind == TYPE_FILE:
        return CameraSource(kind, config[CONF_PATH])
    if kind == TYPE_USB:
        return CameraSource(kind, config[CONF_PATH], stream_format="v4l2")
    if kind == TYPE_HTTP_SNAPSHOT:
        return CameraSource(kind, None, snapshot_url=_network_url(config, credentials=False), **auth)
    options: dict[str, str] = {}
    stream_format: str | None = None
    if kind in RTSP_TYPES:
        options["rtsp_transport"] = config.get(CONF_RTSP_TRANSPORT, "tcp")
    if kind == TYPE_HTTP_MJPEG:
        stream_format = "mpjpeg"
    return CameraSource(kind, _network_url(config, credentials=True), options, stream_format, snapshot, **auth)


def onvif_source(config: Mapping[str, Any], stream_uri: str, snapshot_uri: str | None) -> CameraSource:
    """An ONVIF camera's source: the URI it gave for the chosen profile, with the entry's credentials."""
    username, password = config.get(CONF_USERNAME, ""), config.get(CONF_PASSWORD, "")
    return CameraSource(
        config[CONF_CONNECTION_TYPE],
        with_credentials(stream_uri, username, password),
        {"rtsp_transport": config.get(CONF_RTSP_TRANSPORT, "tcp")},
        None,
        config.get(CONF_SNAPSHOT_URL) or snapshot_uri,
        username,
        password,
        bool(config.get(CONF_VERIFY_TLS)),
    )
