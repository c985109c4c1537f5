"""Stream and snapshot URIs as a device returns them, made usable: credentials injected, bad hosts rewritten.

GetStreamUri answers usually carry no credentials (REFERENCE.md §4.3), and cameras behind NAT or with a stale
network configuration report a host the hub cannot reach (their LAN address, ``0.0.0.0``, ``127.0.0.1``). Such
a host is replaced by the one the user configured; the port and path stay, since they are the device's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443, "rtmp": 1935}


def _netloc(host: str, port: int | None, userinfo: str = "") -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{userinfo}{host}" + (f":{port}" if port is not None else "")


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:  # not a number or out of range: dropped, the scheme's default applies
        return None


def _userinfo(url: str) -> str:
    netloc = urlsplit(url).netloc
    return netloc.rpartition("@")[0] + "@" if "@" in netloc else ""


def with_credentials(uri: str, username: str, password: str) -> str:
    """``rtsp://host/path`` -> ``rtsp://user:pass@host/path`` (quoted); a URI that already has some is kept."""
    parts = urlsplit(uri)
    if not username or "@" in parts.netloc or not parts.hostname:
        return uri
    userinfo = quote(username, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
    return urlunsplit(parts._replace(netloc=_netloc(parts.hostname, _port(parts), userinfo)))


def with_host(uri: str, host: str) -> str:
    """The same URI on another host (port, path, query and credentials kept)."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=_netloc(host, _port(parts), _userinfo(uri))))


def _unusable(host: str, configured: str) -> bool:
    """An address that cannot mean the device when seen from here: unspecified, or loopback when it is remote."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host.lower() == "localhost" and not _is_loopback(configured)
    return address.is_unspecified or (address.is_loopback and not _is_loopback(configured))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


async def reachable(host: str, port: int, timeout: float) -> bool:
    """True when a TCP connection to ``host:port`` opens within ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def usable_uri(uri: str, configured_host: str, *, timeout: float = 1.5) -> tuple[str, bool]:
    """``(uri, rewritten)``: the device's URI, or the same on ``configured_host`` when its own host is wrong.

    Wrong means unusable from here (``0.0.0.0``, a loopback address of a remote device) or not answering TCP
    within ``timeout`` while it differs from the configured host.
    """
    parts = urlsplit(uri)
    host = parts.hostname
    if host is None or host.lower() == configured_host.strip("[]").lower():
        return uri, False
    if _unusable(host, configured_host):
        return with_host(uri, configured_host), True
    if await reachable(host, _port(parts) or DEFAULT_PORTS.get(parts.scheme.lower(), 80), timeout):
        return uri, False
    return with_host(uri, configured_host), True
