"""The hub's ONVIF client: onvif-zeep-async (asyncio, WSDLs from the package) behind plain, typed calls.

Every SOAP call goes through ``_call``, which turns zeep faults, HTTP and socket errors and broken XML into the
integration's own errors (errors.py) with the operation named. ``connect`` reads the device's clock first
(GetSystemDateAndTime, unauthenticated) and keeps the offset: every WS-Security ``Created`` is then stamped on
the device's clock, so a camera whose clock is off still accepts our digests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import zeep.exceptions
from lxml import etree

from ._library import ONVIFCamera, ONVIFError, extract_subcodes_as_strings
from .errors import OnvifAuthError, OnvifConnectionError, OnvifError, OnvifFaultError, OnvifResponseError
from .models import DeviceInfo, MediaProfile, Preset

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

NS_PTZ = "http://www.onvif.org/ver20/ptz/wsdl"
NS_EVENTS = "http://www.onvif.org/ver10/events/wsdl"
NS_PULLPOINT = f"{NS_EVENTS}/PullPointSubscription"
_AUTH_WORDS = ("notauthorized", "not authorized", "unauthorized", "authority failure", "authentication")


def classify(err: BaseException, operation: str) -> OnvifError:
    """The integration's error for whatever the library raised during ``operation``."""
    if isinstance(err, OnvifError):
        return err
    if isinstance(err, ONVIFError) and err.__cause__ is not None:
        err = err.__cause__
    if isinstance(err, zeep.exceptions.Fault) and err.code is None and not err.subcodes:
        return OnvifResponseError(f"{operation}: the answer is not SOAP (an error page?)")
    if isinstance(err, zeep.exceptions.Fault):
        subcodes = tuple(extract_subcodes_as_strings(err.subcodes)) if err.subcodes else ()
        text = " ".join((err.message or "", *subcodes)).lower()
        if any(word in text for word in _AUTH_WORDS):
            return OnvifAuthError(f"{operation}: the device refused the credentials ({err.message})")
        return OnvifFaultError(f"{operation}: the device answered a fault: {err.message}", subcodes)
    if isinstance(err, zeep.exceptions.TransportError):
        if err.status_code in (401, 403):
            return OnvifAuthError(f"{operation}: the device refused the credentials (HTTP {err.status_code})")
        return OnvifResponseError(f"{operation}: HTTP {err.status_code} instead of a SOAP answer")
    if isinstance(err, zeep.exceptions.XMLSyntaxError | etree.XMLSyntaxError | UnicodeDecodeError):
        return OnvifResponseError(f"{operation}: the device sent broken XML ({err})")
    if isinstance(err, zeep.exceptions.Error | AttributeError | KeyError | TypeError | ValueError):
        return OnvifResponseError(f"{operation}: unexpected answer ({type(err).__name__}: {err})")
    if isinstance(err, TimeoutError):
        return OnvifConnectionError(f"{operation}: no answer in time")
    if isinstance(err, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return OnvifResponseError(f"{operation}: not an HTTP/SOAP answer ({err})")
    if isinstance(err, aiohttp.ClientError | OSError):
        return OnvifConnectionError(f"{operation}: {type(err).__name__}: {err}".rstrip(": "))
    if isinstance(err, ONVIFError):
        return OnvifResponseError(f"{operation}: {err}")
    return OnvifError(f"{operation}: {type(err).__name__}: {err}")


@dataclass(frozen=True, slots=True)
class PullPoint:
    """A PullPoint subscription: where to pull from, and when the device will drop it."""

    address: str
    terminates_at: dt.datetime | None


class OnvifClient:
    """One device: its services, clock offset and profiles. Call ``connect`` first and ``close`` at the end."""

    def __init__(self, host: str, port: int, username: str, password: str, *, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.timeout = timeout
        self._camera: ONVIFCamera | None = None
        self.services: frozenset[str] = frozenset()  # service namespaces, from the last connect
        self._clock_offset = 0.0

    @property
    def camera(self) -> ONVIFCamera:
        if self._camera is None:
            raise OnvifConnectionError(f"not connected to {self.host}:{self.port}")
        return self._camera

    @property
    def connected(self) -> bool:
        return self._camera is not None

    @property
    def clock_offset(self) -> float:
        """Seconds the device's clock is ahead of ours (negative: behind), from GetSystemDateAndTime."""
        return self._clock_offset

    def has_service(self, namespace: str) -> bool:
        """Whether the device offered that service when we last connected."""
        return namespace in self.services

    @property
    def has_ptz(self) -> bool:
        return self.has_service(NS_PTZ)

    @property
    def has_events(self) -> bool:
        return self.has_service(NS_EVENTS)

    async def _call(self, operation: str, call: Callable[[], Awaitable[_T]]) -> _T:
        try:
            async with asyncio.timeout(self.timeout):
                return await call()
        except Exception as err:
            raise classify(err, operation) from err

    # ------------------------------------------------------------------------------------------- session

    async def connect(self) -> None:
        """Read the clock offset and the service addresses (GetServices, else GetCapabilities)."""
        await self.close()
        camera = ONVIFCamera(
            self.host, self.port, self.username or None, self.password or None, adjust_time=True, no_cache=True
        )
        self._camera = camera
        try:
            await self._call("GetSystemDateAndTime/GetServices", camera.update_xaddrs)
        except BaseException:
            await self.close()
            raise
        self.services = frozenset(camera.xaddrs)
        self._clock_offset = camera.dt_diff.total_seconds() if camera.dt_diff is not None else 0.0

    async def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            try:
                await camera.close()
            except Exception as err:  # closing a dead session must not mask the real error
                _LOGGER.debug("Closing the ONVIF session to %s failed: %s", self.host, err)

    # ------------------------------------------------------------------------------------------- device

    async def device_info(self, *, with_mac: bool = True) -> DeviceInfo:
        """GetDeviceInformation (and GetNetworkInterfaces for the MAC when ``with_mac``)."""
        service = await self._call("devicemgmt", self.camera.create_devicemgmt_service)
        info = await self._call("GetDeviceInformation", service.GetDeviceInformation)
        mac = await self._mac(service) if with_mac else None
        try:
            return DeviceInfo(
                manufacturer=str(info.Manufacturer or "").strip(),
                model=str(info.Model or "").strip(),
                firmware_version=str(info.FirmwareVersion or "").strip(),
                serial_number=str(info.SerialNumber or "").strip(),
                hardware_id=str(info.HardwareId or "").strip(),
                mac=str(mac).lower() if mac else None,
            )
        except AttributeError as err:
            raise classify(err, "GetDeviceInformation") from err

    async def _mac(self, service: Any) -> str | None:
        """The first interface's MAC address; optional, many devices refuse it to non-admin users."""
        try:
            interfaces = await self._call("GetNetworkInterfaces", service.GetNetworkInterfaces)
            return next((i.Info.HwAddress for i in interfaces or [] if i.Info and i.Info.HwAddress), None)
        except (OnvifError, AttributeError) as err:  # NotAuthorized included: the account may not be an admin
            _LOGGER.debug("%s: no MAC address: %s", self.host, err)
            return None

    # -------------------------------------------------------------------------------------------- media

    async def _media(self) -> Any:
        return await self._call("media service", self.camera.create_media_service)

    async def profiles(self) -> list[MediaProfile]:
        media = await self._media()
        answer = await self._call("GetProfiles", media.GetProfiles)
        try:
            return [_profile(item) for item in answer or []]
        except (AttributeError, TypeError, ValueError) as err:
            raise classify(err, "GetProfiles") from err

    async def stream_uri(self, profile_token: str, transport: str = "tcp") -> str:
        """The raw RTSP URI of a profile (RTSP interleaved over TCP unless ``udp`` or ``http`` is asked)."""
        media = await self._media()
        protocol = {"udp": "UDP", "http": "HTTP"}.get(transport, "RTSP")
        request = {
            "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": protocol}},
            "ProfileToken": profile_token,
        }
        answer = await self._call("GetStreamUri", lambda: media.GetStreamUri(request))
        return _uri(answer, "GetStreamUri")

    async def snapshot_uri(self, profile_token: str) -> str | None:
        """The JPEG snapshot URI of a profile, or None when the device has none."""
        media = await self._media()
        try:
            answer = await self._call("GetSnapshotUri", lambda: media.GetSnapshotUri({"ProfileToken": profile_token}))
        except OnvifFaultError as err:
            _LOGGER.debug("%s: no snapshot URI: %s", self.host, err)
            return None
        try:
            return _uri(answer, "GetSnapshotUri")
        except OnvifResponseError:
            return None

    # ---------------------------------------------------------------------------------------------- ptz

    async def _ptz(self) -> Any:
        return await self._call("PTZ service", self.camera.create_ptz_service)

    async def continuous_move(
        self, profile_token: str, pan: float, tilt: float, zoom: float, duration: float | None = None
    ) -> None:
        ptz = await self._ptz()
        request: dict[str, Any] = {
            "ProfileToken": profile_token,
            "Velocity": {"PanTilt": {"x": pan, "y": tilt}, "Zoom": {"x": zoom}},
        }
        if duration is not None:
            request["Timeout"] = dt.timedelta(seconds=duration)
        await self._call("ContinuousMove", lambda: ptz.ContinuousMove(request))

    async def stop(self, profile_token: str, *, pan_tilt: bool = True, zoom: bool = True) -> None:
        ptz = await self._ptz()
        request = {"ProfileToken": profile_token, "PanTilt": pan_tilt, "Zoom": zoom}
        await self._call("Stop", lambda: ptz.Stop(request))

    async def presets(self, profile_token: str) -> list[Preset]:
        ptz = await self._ptz()
        answer = await self._call("GetPresets", lambda: ptz.GetPresets({"ProfileToken": profile_token}))
        return [Preset(str(item.token), str(item.Name or item.token)) for item in answer or []]

    async def goto_preset(self, profile_token: str, preset_token: str, speed: float | None = None) -> None:
        ptz = await self._ptz()
        request: dict[str, Any] = {"ProfileToken": profile_token, "PresetToken": preset_token}
        if speed is not None:
            request["Speed"] = {"PanTilt": {"x": speed, "y": speed}, "Zoom": {"x": speed}}
        await self._call("GotoPreset", lambda: ptz.GotoPreset(request))

    async def set_preset(self, profile_token: str, name: str | None = None, preset_token: str | None = None) -> str:
        """Store the current position as a preset; returns its token."""
        ptz = await self._ptz()
        request: dict[str, Any] = {"ProfileToken": profile_token}
        if name:
            request["PresetName"] = name
        if preset_token:
            request["PresetToken"] = preset_token
        token = await self._call("SetPreset", lambda: ptz.SetPreset(request))
        return str(token)

    # ------------------------------------------------------------------------------------------- events

    async def create_pull_point(self, seconds: float) -> PullPoint:
        """CreatePullPointSubscription for ``seconds``; later pulls and renewals go to its own address."""
        camera = self.camera
        events = await self._call("events service", camera.create_events_service)
        request = {"InitialTerminationTime": f"PT{int(seconds)}S"}
        answer = await self._call("CreatePullPointSubscription", lambda: events.CreatePullPointSubscription(request))
        try:
            address = answer.SubscriptionReference.Address._value_1
        except AttributeError as err:
            raise classify(err, "CreatePullPointSubscription") from err
        address = camera.rewrite_url(address) or address
        self.use_pull_point(address)
        return PullPoint(address, _termination(answer))

    def use_pull_point(self, address: str) -> None:
        """Pull from and renew this subscription (one made earlier, kept across a reload)."""
        self.camera.xaddrs[NS_PULLPOINT] = address

    async def pull_messages(self, timeout: float, limit: int) -> list[Any]:
        """One PullMessages long poll; returns zeep NotificationMessage objects (topics.py reads them)."""
        camera = self.camera
        service = await self._call("pull point", camera.create_pullpoint_service)
        request = {"Timeout": dt.timedelta(seconds=timeout), "MessageLimit": limit}
        try:
            async with asyncio.timeout(timeout + self.timeout):
                answer = await service.PullMessages(request)
        except Exception as err:
            raise classify(err, "PullMessages") from err
        return list(getattr(answer, "NotificationMessage", None) or [])

    async def synchronize(self) -> None:
        """SetSynchronizationPoint: the camera sends every property's current value again (``Initialized``)."""
        service = await self._call("pull point", self.camera.create_pullpoint_service)
        await self._call("SetSynchronizationPoint", service.SetSynchronizationPoint)

    async def renew(self, seconds: float) -> dt.datetime | None:
        camera = self.camera
        service = await self._call(
            "subscription manager", lambda: camera.create_subscription_service("PullPointSubscription")
        )
        answer = await self._call("Renew", lambda: service.Renew({"TerminationTime": f"PT{int(seconds)}S"}))
        return _termination(answer)

    # ----------------------------------------------------------------------------------------- snapshot

    async def fetch_snapshot(self, session: aiohttp.ClientSession, uri: str, timeout: float) -> bytes:
        """GET a snapshot URI with HTTP Digest, then Basic if the device asks for it; raises on failure."""
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        try:
            middleware = aiohttp.DigestAuthMiddleware(self.username, self.password) if self.username else None
            async with session.get(
                uri, timeout=client_timeout, middlewares=(middleware,) if middleware else ()
            ) as response:
                if response.status == 401 and self.username:
                    basic = {"Authorization": aiohttp.encode_basic_auth(self.username, self.password)}
                    async with session.get(uri, timeout=client_timeout, headers=basic) as retry:
                        return await _image(retry)
                return await _image(response)
        except OnvifError:
            raise
        except Exception as err:
            raise classify(err, "snapshot") from err


async def _image(response: aiohttp.ClientResponse) -> bytes:
    if response.status in (401, 403):
        raise OnvifAuthError(f"snapshot: the device refused the credentials (HTTP {response.status})")
    if response.status >= 300:
        raise OnvifResponseError(f"snapshot: HTTP {response.status}")
    body = await response.read()
    if not body.startswith(b"\xff\xd8"):
        raise OnvifResponseError("snapshot: the answer is not a JPEG image")
    return body


def _uri(answer: Any, operation: str) -> str:
    uri = getattr(answer, "Uri", None)
    if not uri or not isinstance(uri, str):
        raise OnvifResponseError(f"{operation}: the device returned no URI")
    return uri.strip()


def _termination(answer: Any) -> dt.datetime | None:
    value = getattr(answer, "TerminationTime", None)
    return value if isinstance(value, dt.datetime) else None


def _profile(item: Any) -> MediaProfile:
    encoder = getattr(item, "VideoEncoderConfiguration", None)
    resolution = getattr(encoder, "Resolution", None)
    rate = getattr(encoder, "RateControl", None)
    fps = getattr(rate, "FrameRateLimit", None)
    bitrate = getattr(rate, "BitrateLimit", None)
    return MediaProfile(
        token=str(item.token),
        name=str(getattr(item, "Name", None) or item.token),
        codec=str(encoder.Encoding) if encoder is not None and encoder.Encoding else None,
        width=int(resolution.Width) if resolution is not None and resolution.Width else None,
        height=int(resolution.Height) if resolution is not None and resolution.Height else None,
        fps=float(fps) if fps else None,
        bitrate_kbps=int(bitrate) if bitrate else None,
        ptz=getattr(item, "PTZConfiguration", None) is not None,
    )
