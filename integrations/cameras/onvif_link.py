"""The cameras integration's one door to ONVIF: the ONVIF integration's ``probe_onvif``, its answer in our terms.

Auto-detect asks it first; ``onvif`` config entries get their stream URI from it at set-up. When the ONVIF
integration is not installed, both say so instead of failing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from hub.redact import redact_url

if TYPE_CHECKING:
    from integrations.onvif.probe import OnvifProbe

from .profiles import profile_for
from .urls import with_credentials

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OnvifStream:
    token: str
    name: str
    uri: str  # with the credentials injected
    snapshot_uri: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    codec: str | None = None


@dataclass(frozen=True, slots=True)
class OnvifStreams:
    """What an ONVIF camera said about itself: identity, and its profiles' streams, main first."""

    manufacturer: str
    model: str
    serial_number: str
    firmware_version: str
    streams: tuple[OnvifStream, ...] = field(default=())
    elapsed_ms: float | None = None

    @property
    def manufacturer_key(self) -> str:
        profile = profile_for(self.manufacturer) or profile_for(self.manufacturer.split(" ")[0])
        return profile.key if profile else "generic"

    def device_dict(self) -> dict[str, Any]:
        return {
            "manufacturer": self.manufacturer,
            "model": self.model,
            "serial_number": self.serial_number,
            "firmware_version": self.firmware_version,
        }


def _convert(probe: OnvifProbe, username: str, password: str) -> OnvifStreams:
    """The probe's answer (``integrations.onvif.probe.OnvifProbe``) as plain values of ours."""
    device = probe.device
    streams = [
        OnvifStream(
            token=profile.token,
            name=profile.name,
            uri=with_credentials(profile.stream_uri, username, password),
            snapshot_uri=profile.snapshot_uri,
            width=profile.width,
            height=profile.height,
            fps=profile.fps,
            codec=profile.codec,
        )
        for profile in probe.profiles
        if profile.stream_uri
    ]
    return OnvifStreams(
        manufacturer=device.manufacturer,
        model=device.model,
        serial_number=device.serial_number,
        firmware_version=device.firmware_version,
        streams=tuple(streams),
        elapsed_ms=probe.elapsed_ms,
    )


async def find_onvif_streams(
    host: str, port: int, username: str, password: str, *, timeout: float = 5.0
) -> tuple[OnvifStreams | None, dict[str, Any]]:
    """The camera's ONVIF streams (None when it does not speak ONVIF there) and a report for the API."""
    try:
        from integrations.onvif.errors import OnvifAuthError, OnvifError
        from integrations.onvif.probe import probe_onvif
    except ImportError:
        return None, {"status": "unavailable", "port": port, "error": "the ONVIF integration is not installed"}
    try:
        probe = await probe_onvif(host, port, username, password, timeout=timeout)
    except OnvifAuthError as err:
        return None, {"status": "auth_failed", "port": port, "error": str(err) or "credentials refused"}
    except (OnvifError, OSError, TimeoutError) as err:
        return None, {"status": "error", "port": port, "error": f"{type(err).__name__}: {err}"}
    if probe is None:
        return None, {"status": "not_found", "port": port, "error": None}
    found = _convert(probe, username, password)
    report = {
        "status": "found",
        "port": port,
        "error": None,
        "device": found.device_dict(),
        "profiles": [
            {
                "token": s.token,
                "name": s.name,
                "stream_uri": redact_url(s.uri),
                "width": s.width,
                "height": s.height,
                "fps": s.fps,
                "codec": s.codec,
            }
            for s in found.streams
        ],
        "elapsed_ms": found.elapsed_ms,
    }
    return found, report


async def onvif_entry_streams(host: str, port: int, username: str, password: str) -> OnvifStreams:
    """For an ``onvif`` entry's set-up: its streams, or the error the config entries machinery understands."""
    found, report = await find_onvif_streams(host, port, username, password, timeout=10.0)
    status = report["status"]
    if status == "auth_failed":
        raise ConfigEntryAuthFailed(f"the ONVIF camera at {host}:{port} refused the credentials")
    if found is None:
        reason = report.get("error") or "no ONVIF service answered"
        raise ConfigEntryNotReady(f"ONVIF at {host}:{port}: {reason}")
    if not found.streams:
        raise ConfigEntryNotReady(f"the ONVIF camera at {host}:{port} gave no stream URI")
    return found
