"""Camera URLs: built from an entry's fields or a manufacturer template, parsed back from a bare URL, redacted.

Credentials are URL-quoted wherever they go (userinfo or a query string), so a password such as ``p@ss:w/rd``
survives; ``redact`` hides them again before a URL is logged or returned by the API.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from hub.redact import redact_url

from .const import (
    DEFAULT_PORTS,
    DEFAULT_TLS_PORT,
    TYPE_FILE,
    TYPE_HLS,
    TYPE_HTTP_MJPEG,
    TYPE_HTTP_SNAPSHOT,
    TYPE_NVR_CHANNEL,
    TYPE_ONVIF,
    TYPE_RTMP,
    TYPE_RTSP,
    TYPE_RTSPS,
    TYPE_USB,
)
from .profiles import ManufacturerProfile, UrlTemplate

#: Query parameters that carry a password in some brands' URLs (Foscam ``pwd``, Reolink ``password``).
_PLACEHOLDER = re.compile(r"\{(channel|channel0|channel2|username|password)\}")
_SNAPSHOT_HINT = re.compile(r"(snapshot|picture|still|image|\.jpe?g$|snap)", re.IGNORECASE)


class CameraUrlError(ValueError):
    """A URL that cannot describe a camera; ``field`` names the input it came from."""

    def __init__(self, message: str, field: str = "url") -> None:
        super().__init__(message)
        self.field = field


def scheme_for(connection_type: str, *, tls: bool = False) -> str:
    if connection_type in (TYPE_RTSP, TYPE_NVR_CHANNEL, TYPE_ONVIF):
        return "rtsp"
    if connection_type == TYPE_RTSPS:
        return "rtsps"
    if connection_type == TYPE_RTMP:
        return "rtmps" if tls else "rtmp"
    if connection_type in (TYPE_HTTP_MJPEG, TYPE_HTTP_SNAPSHOT, TYPE_HLS):
        return "https" if tls else "http"
    raise CameraUrlError(f"connection type {connection_type!r} has no network URL", "connection_type")


def default_port(connection_type: str, *, tls: bool = False) -> int:
    if tls and connection_type in (TYPE_HTTP_MJPEG, TYPE_HTTP_SNAPSHOT, TYPE_HLS):
        return DEFAULT_TLS_PORT
    return DEFAULT_PORTS.get(connection_type, 554)


def host_for_url(host: str) -> str:
    """IPv6 literals go in brackets."""
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            return f"[{host}]"
    except ValueError:
        pass
    return host


def build_url(
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    *,
    username: str = "",
    password: str = "",
) -> str:
    """``scheme://user:pass@host:port/path`` with the credentials quoted (no userinfo when there is no user)."""
    userinfo = ""
    if username:
        userinfo = quote(username, safe="")
        if password:
            userinfo += ":" + quote(password, safe="")
        userinfo += "@"
    netloc = userinfo + host_for_url(host) + (f":{port}" if port else "")
    if path and not path.startswith("/"):
        path = "/" + path
    return f"{scheme}://{netloc}{path}"


def with_credentials(url: str, username: str, password: str) -> str:
    """``url`` with these credentials in its userinfo, unless it carries some already or none are given."""
    if not username:
        return url
    parts = urlsplit(url)
    if parts.username:
        return url
    return build_url(
        parts.scheme,
        parts.hostname or "",
        parts.port,
        parts.path + (f"?{parts.query}" if parts.query else ""),
        username=username,
        password=password,
    )


def split_userinfo(url: str) -> tuple[str, str, str]:
    """``(url without userinfo, username, password)``, the credentials unquoted (for HTTP auth headers)."""
    parts = urlsplit(url)
    if not parts.username:
        return url, "", ""
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=netloc)), unquote(parts.username), unquote(parts.password or "")


def fill_template(path: str, *, channel: int = 1, username: str = "", password: str = "") -> str:
    """A template path with its placeholders filled (see ``profiles``); credentials URL-quoted."""
    values = {
        "channel": str(channel),
        "channel0": str(max(channel - 1, 0)),
        "channel2": f"{channel:02d}",
        "username": quote(username, safe=""),
        "password": quote(password, safe=""),
    }
    # Only our placeholders: a user's own path may hold other braces.
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], path)


@dataclass(frozen=True, slots=True)
class GeneratedUrl:
    """A template made concrete for one camera. ``url`` carries the credentials: never return it as is."""

    manufacturer: str
    stream: str
    connection_type: str
    host: str
    port: int
    path: str
    url: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For the API: the URL redacted, and the parts the add-camera form needs (without credentials)."""
        return {
            "manufacturer": self.manufacturer,
            "stream": self.stream,
            "connection_type": self.connection_type,
            "host": self.host,
            "port": self.port,
            "path": redact_url(self.path) if "?" in self.path else self.path,
            "url": redact_url(self.url),
            "note": self.note,
        }


def generate_url(
    profile: ManufacturerProfile,
    template: UrlTemplate,
    host: str,
    *,
    username: str = "",
    password: str = "",
    channel: int = 1,
    port: int | None = None,
) -> GeneratedUrl:
    """One template for one camera; ``port`` overrides the template's and the profile's default."""
    chosen_port = port or template.port or profile.default_port(template.connection_type)
    path = fill_template(template.path, channel=channel, username=username, password=password)
    in_query = "{username}" in template.path or "{password}" in template.path
    # Brands that take credentials in the query string get none in the userinfo (two logins confuse them).
    url = build_url(
        scheme_for(template.connection_type),
        host,
        chosen_port,
        path,
        username="" if in_query else username,
        password="" if in_query else password,
    )
    return GeneratedUrl(profile.key, template.stream, template.connection_type, host, chosen_port, path, url,
                        template.note)  # fmt: skip


def generate_urls(
    profile: ManufacturerProfile,
    host: str,
    *,
    username: str = "",
    password: str = "",
    channel: int = 1,
    ports: Mapping[str, int] | None = None,
) -> list[GeneratedUrl]:
    """Every template of a brand for one camera; ``ports`` overrides the port per connection type."""
    ports = ports or {}
    return [
        generate_url(
            profile,
            template,
            host,
            username=username,
            password=password,
            channel=channel,
            port=ports.get(template.connection_type),
        )
        for template in profile.templates
    ]


def parse_camera_url(url: str) -> dict[str, Any]:
    """Entry fields from a whole URL (the legacy ``rtsp_url``): type, host, port, path and credentials.

    ``rtsp://admin:p%40ss@10.0.0.5:554/stream1`` gives ``{"connection_type": "rtsp", "host": "10.0.0.5",
    "port": 554, "path": "/stream1", "username": "admin", "password": "p@ss"}``. HTTP URLs are MJPEG unless the
    path looks like a still image (snapshot) or ends in ``.m3u8`` (HLS); a local path is a file, ``/dev/video*``
    a USB camera.
    """
    text = url.strip()
    if not text:
        raise CameraUrlError("empty URL")
    if text.startswith("/dev/video"):
        return {"connection_type": TYPE_USB, "path": text}
    if text.startswith("/") or text.startswith("file://"):
        return {"connection_type": TYPE_FILE, "path": unquote(text.removeprefix("file://"))}
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as err:
        raise CameraUrlError(f"not a valid URL: {err}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if not host:
        raise CameraUrlError("the URL has no host")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    fields: dict[str, Any] = {"host": host}
    if scheme == "rtsp":
        fields["connection_type"] = TYPE_RTSP
    elif scheme == "rtsps":
        fields["connection_type"] = TYPE_RTSPS
    elif scheme in ("rtmp", "rtmps"):
        fields.update(connection_type=TYPE_RTMP, tls=scheme == "rtmps")
    elif scheme in ("http", "https"):
        fields["tls"] = scheme == "https"
        if parts.path.lower().endswith(".m3u8"):
            fields["connection_type"] = TYPE_HLS
        elif _SNAPSHOT_HINT.search(parts.path.rsplit("/", 1)[-1]):
            fields["connection_type"] = TYPE_HTTP_SNAPSHOT
        else:
            fields["connection_type"] = TYPE_HTTP_MJPEG
    else:
        raise CameraUrlError(f"unsupported scheme {parts.scheme!r} (rtsp, rtsps, rtmp, http, https, a file path)")
    fields["port"] = port or default_port(fields["connection_type"], tls=bool(fields.get("tls")))
    fields["path"] = path or "/"
    if parts.username:
        fields["username"] = unquote(parts.username)
        fields["password"] = unquote(parts.password or "")
    return fields
