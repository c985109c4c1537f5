"""``probe_onvif``: ask one address whether an ONVIF device answers, and what it streams.

Camera auto-detect (the ``cameras`` integration) calls it first: device information, and for each media profile
its stream URI (credentials injected, an unreachable host rewritten to the one asked), its snapshot URI, codec,
resolution and frame rate. None means nothing ONVIF answered there (refused, silent, not SOAP, broken XML);
wrong credentials raise OnvifAuthError, so the caller can say so instead of trying other URLs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from hub.redact import redact_url

from .client import OnvifClient
from .errors import OnvifAuthError, OnvifError
from .models import DeviceInfo, MediaProfile
from .uris import usable_uri, with_credentials

__all__ = ["OnvifAuthError", "OnvifProbe", "ProbeProfile", "probe_onvif"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProbeProfile:
    """One profile: ``stream_uri`` carries the credentials (never log it; ``as_dict`` redacts it)."""

    token: str
    name: str
    stream_uri: str | None
    snapshot_uri: str | None
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    ptz: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "name": self.name,
            "stream_uri": redact_url(self.stream_uri) if self.stream_uri else None,
            "snapshot_uri": redact_url(self.snapshot_uri) if self.snapshot_uri else None,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "ptz": self.ptz,
        }


@dataclass(frozen=True, slots=True)
class OnvifProbe:
    host: str
    port: int
    device: DeviceInfo
    profiles: tuple[ProbeProfile, ...]
    clock_offset: float
    ptz: bool
    events: bool
    elapsed_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "device": self.device.as_dict(),
            "profiles": [profile.as_dict() for profile in self.profiles],
            "clock_offset": round(self.clock_offset, 1),
            "ptz": self.ptz,
            "events": self.events,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


async def probe_onvif(host: str, port: int, username: str, password: str, *, timeout: float = 5.0) -> OnvifProbe | None:
    """Probe ``host:port`` within ``timeout`` seconds; None when nothing ONVIF answers there."""
    started = time.perf_counter()
    client = OnvifClient(host, port, username, password, timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            await client.connect()
            device = await client.device_info()
            profiles = await client.profiles()
            found = await asyncio.gather(*(_profile(client, profile, host) for profile in profiles))
    except OnvifAuthError:
        raise
    except TimeoutError:
        _LOGGER.debug("No ONVIF answer from %s:%s within %g s", host, port, timeout)
        return None
    except OnvifError as err:
        _LOGGER.debug("No ONVIF device at %s:%s: %s", host, port, err)
        return None
    finally:
        await client.close()
    return OnvifProbe(
        host=host,
        port=port,
        device=device,
        profiles=tuple(found),
        clock_offset=client.clock_offset,
        ptz=client.has_ptz,
        events=client.has_events,
        elapsed_ms=(time.perf_counter() - started) * 1000.0,
    )


async def _profile(client: OnvifClient, profile: MediaProfile, host: str) -> ProbeProfile:
    stream: str | None = None
    try:
        raw = await client.stream_uri(profile.token)
    except OnvifAuthError:
        raise
    except OnvifError as err:  # one profile without a stream (audio-only, metadata) does not fail the probe
        _LOGGER.debug("%s: no stream URI for profile %s: %s", host, profile.token, err)
    else:
        stream = with_credentials((await usable_uri(raw, host))[0], client.username, client.password)
    snapshot = await client.snapshot_uri(profile.token)
    return ProbeProfile(
        token=profile.token,
        name=profile.name,
        stream_uri=stream,
        snapshot_uri=(await usable_uri(snapshot, host))[0] if snapshot else None,
        codec=profile.codec,
        width=profile.width,
        height=profile.height,
        fps=profile.fps,
        ptz=profile.ptz and client.has_ptz,
    )
