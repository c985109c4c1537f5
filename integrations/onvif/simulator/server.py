"""The simulated ONVIF device: SOAP 1.2 over aiohttp, dispatched on the Body's first child.

Endpoints: ``/onvif/device_service``, ``/onvif/media_service``, ``/onvif/ptz_service``, ``/onvif/events_service``,
one ``/onvif/subscription/<id>`` per PullPoint subscription, and ``/onvif/snapshot.jpg`` behind HTTP auth.
Every operation but the pre-authentication ones (ONVIF Core §5.9.4: GetSystemDateAndTime, GetServices,
GetCapabilities...) needs a valid WS-Security digest; anything unknown answers an ActionNotSupported fault.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from . import responses
from .config import SimulatorConfig
from .discovery import DiscoveryResponder
from .events import EventBroker
from .http_auth import HttpAuthenticator
from .ptz import PtzHead
from .soap import (
    CONTENT_TYPE,
    NS,
    SoapFault,
    SoapRequest,
    UsernameTokenChecker,
    action_not_supported,
    envelope,
    fault_envelope,
    invalid_args,
    parse_duration,
    parse_request,
    parse_termination,
)

_LOGGER = logging.getLogger(__name__)

PRE_AUTH = frozenset(
    {"GetSystemDateAndTime", "GetServices", "GetCapabilities", "GetServiceCapabilities", "GetWsdlUrl", "GetHostname"}
)
BROKEN_REPLY = b'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-'

Handler = Callable[[SoapRequest], Awaitable[str]]


class OnvifSimulator:
    """One simulated camera. ``port=0`` picks a free port, kept across ``stop()`` / ``start()`` (a reboot)."""

    def __init__(
        self, config: SimulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0, **changes: Any
    ) -> None:
        self.config = dataclasses.replace(config or SimulatorConfig(), **changes)
        self.host = host
        self.port = port
        self.calls: list[str] = []
        self.auth_failures = 0
        self.events = EventBroker(self.now, max_subscriptions=self.config.max_subscriptions)
        self.ptz = PtzHead()
        self._auth = UsernameTokenChecker(
            self.config.username, self.config.password, tolerance=self.config.time_tolerance
        )
        self._http_auth = HttpAuthenticator(self.config.username, self.config.password, self.config.snapshot_auth)
        self._runner: web.AppRunner | None = None
        self.discovery: DiscoveryResponder | None = None
        self._snapshots = 0
        self._handlers: dict[str, dict[str, Handler]] = {
            "device": {
                "GetSystemDateAndTime": self._system_date_and_time,
                "GetDeviceInformation": self._device_information,
                "GetServices": self._services,
                "GetCapabilities": self._capabilities,
                "GetNetworkInterfaces": self._network_interfaces,
            },
            "media": {
                "GetProfiles": self._profiles,
                "GetStreamUri": self._stream_uri,
                "GetSnapshotUri": self._snapshot_uri,
                "GetServiceCapabilities": self._media_capabilities,
            },
            "ptz": {
                "ContinuousMove": self._continuous_move,
                "Stop": self._stop,
                "GetPresets": self._presets,
                "GotoPreset": self._goto_preset,
                "SetPreset": self._set_preset,
                "GetStatus": self._ptz_status,
            },
            "events": {"CreatePullPointSubscription": self._create_pull_point},
        }

    # --------------------------------------------------------------------------------------------- control

    @property
    def url(self) -> str:
        """The device service address: what a client is configured with (host + port) plus the path."""
        return f"http://{self.host}:{self.port}/onvif/device_service"

    def address(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def now(self) -> dt.datetime:
        """The device's clock: ours plus ``clock_offset``."""
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.config.clock_offset)

    def emit(
        self,
        topic: str,
        data: Mapping[str, str],
        source: Mapping[str, str] | None = None,
        *,
        operation: str | None = "Changed",
    ) -> None:
        """Raise an event: ``emit("tns1:RuleEngine/CellMotionDetector/Motion", {"IsMotion": "true"})``."""
        self.events.emit(topic, data, source, operation=operation)

    def reconfigure(self, **changes: Any) -> None:
        """Change the device while it runs (a new password, a clock jump, broken XML from now on)."""
        self.config = dataclasses.replace(self.config, **changes)
        self._auth = UsernameTokenChecker(
            self.config.username, self.config.password, tolerance=self.config.time_tolerance
        )
        self._http_auth = HttpAuthenticator(self.config.username, self.config.password, self.config.snapshot_auth)

    async def start(self) -> None:
        app = web.Application()
        for service in self._handlers:
            app.router.add_post(f"/onvif/{service}_service", self._endpoint(service))
        app.router.add_post("/onvif/subscription/{id}", self._subscription)
        app.router.add_get("/onvif/snapshot.jpg", self._snapshot)
        # A client that gives up a long poll (cancelled, disconnected) must not leave it waiting to eat the next events.
        runner = web.AppRunner(
            app, handle_signals=False, shutdown_timeout=0.2, access_log=None, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        if self.port == 0:
            self.port = runner.addresses[0][1]

    async def start_discovery(self, *, port: int = 3702, multicast: bool = False) -> DiscoveryResponder:
        """Answer WS-Discovery Probes on ``host:port`` (``port=0``: a free one); stops with ``stop()``."""
        responder = DiscoveryResponder(lambda: self.config, lambda: self.url, host=self.host, port=port,
                                       multicast=multicast)  # fmt: skip
        await responder.start()
        self.discovery = responder
        return responder

    async def stop(self) -> None:
        """Go off the network (subscriptions survive, as on a link outage; ``events.expire_all`` is a reboot)."""
        if self.discovery is not None:
            await self.discovery.stop()
            self.discovery = None
        runner, self._runner = self._runner, None
        if runner is not None:
            for subscription in self.events.subscriptions.values():
                subscription.wakeup.set()
            await runner.cleanup()

    async def __aenter__(self) -> OnvifSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # -------------------------------------------------------------------------------------------- dispatch

    def _endpoint(self, service: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            return await self._dispatch(request, self._handlers[service])

        return handle

    async def _subscription(self, request: web.Request) -> web.Response:
        subscription_id = request.match_info["id"]

        async def pull(soap: SoapRequest) -> str:
            return await self._pull_messages(subscription_id, soap)

        async def renew(soap: SoapRequest) -> str:
            return self._renew(subscription_id, soap)

        async def unsubscribe(_: SoapRequest) -> str:
            self.events.unsubscribe(subscription_id)
            return responses.empty("Unsubscribe", "wsnt")

        async def synchronize(_: SoapRequest) -> str:
            subscription = self.events.get(subscription_id)
            self.events.synchronize(subscription)
            return responses.empty("SetSynchronizationPoint", "tev")

        handlers: dict[str, Handler] = {
            "PullMessages": pull,
            "Renew": renew,
            "Unsubscribe": unsubscribe,
            "SetSynchronizationPoint": synchronize,
        }
        return await self._dispatch(request, handlers)

    async def _dispatch(self, request: web.Request, handlers: Mapping[str, Handler]) -> web.Response:
        try:
            soap = parse_request(await request.read())
            self.calls.append(soap.operation)
            if soap.operation in self.config.broken_xml or "*" in self.config.broken_xml:
                return web.Response(body=BROKEN_REPLY + b"\xff\xfe<tds:Broken>", content_type=CONTENT_TYPE)
            handler = handlers.get(soap.operation)
            if handler is None:
                raise action_not_supported(soap.operation)
            if soap.operation not in PRE_AUTH:
                try:
                    self._auth.check(soap.security, self.now())
                except SoapFault:
                    self.auth_failures += 1
                    raise
            body = await handler(soap)
        except SoapFault as fault:
            return web.Response(body=fault_envelope(fault), status=fault.status, content_type=CONTENT_TYPE)
        except Exception as err:  # a simulator bug still answers like a device would
            _LOGGER.exception("ONVIF simulator failed to answer")
            failure = SoapFault("Receiver", "ter:Action", f"{type(err).__name__}: {err}", 500)
            return web.Response(body=fault_envelope(failure), status=500, content_type=CONTENT_TYPE)
        return web.Response(body=envelope(body), content_type=CONTENT_TYPE, charset="utf-8")

    # ---------------------------------------------------------------------------------------------- device

    async def _system_date_and_time(self, _: SoapRequest) -> str:
        return responses.system_date_and_time(self.now())

    async def _device_information(self, _: SoapRequest) -> str:
        return responses.device_information(self.config)

    def _xaddrs(self) -> dict[str, str]:
        xaddrs = {responses.SERVICE_NAMESPACES["device"]: self.url}
        xaddrs[responses.SERVICE_NAMESPACES["media"]] = self.address("/onvif/media_service")
        if self.config.ptz:
            xaddrs[responses.SERVICE_NAMESPACES["ptz"]] = self.address("/onvif/ptz_service")
        if self.config.events:
            xaddrs[responses.SERVICE_NAMESPACES["events"]] = self.address("/onvif/events_service")
        return xaddrs

    async def _services(self, _: SoapRequest) -> str:
        return responses.services(self._xaddrs())

    async def _capabilities(self, _: SoapRequest) -> str:
        return responses.capabilities(
            self.url,
            self.address("/onvif/media_service"),
            self.address("/onvif/ptz_service") if self.config.ptz else None,
            self.address("/onvif/events_service") if self.config.events else None,
        )

    async def _network_interfaces(self, _: SoapRequest) -> str:
        return responses.network_interfaces(self.config)

    # ----------------------------------------------------------------------------------------------- media

    def _profile_uri(self, soap: SoapRequest) -> str:
        token = soap.text("trt:ProfileToken")
        for profile in self.config.media_profiles():
            if profile.token == token:
                return profile.rtsp_url
        raise SoapFault("Sender", "ter:NoProfile", f"no profile {token!r}")

    async def _profiles(self, _: SoapRequest) -> str:
        return responses.profiles(self.config)

    async def _stream_uri(self, soap: SoapRequest) -> str:
        return responses.media_uri("GetStreamUri", self._profile_uri(soap))

    async def _snapshot_uri(self, soap: SoapRequest) -> str:
        self._profile_uri(soap)
        if not self.config.snapshot:
            raise action_not_supported("GetSnapshotUri")
        return responses.media_uri("GetSnapshotUri", self.address("/onvif/snapshot.jpg"))

    async def _media_capabilities(self, _: SoapRequest) -> str:
        return responses.media_service_capabilities()

    async def _snapshot(self, request: web.Request) -> web.Response:
        if not self._http_auth.authorized(request):
            return self._http_auth.challenge()
        self._snapshots += 1
        jpeg = await asyncio.to_thread(test_card, self.config.name, self._snapshots)
        return web.Response(body=jpeg, content_type="image/jpeg")

    # ------------------------------------------------------------------------------------------------- ptz

    def _ptz_profile(self, soap: SoapRequest) -> None:
        token = soap.text("tptz:ProfileToken")
        if not any(profile.token == token and profile.ptz for profile in self.config.media_profiles()):
            raise SoapFault("Sender", "ter:NoProfile", f"no PTZ profile {token!r}")

    async def _continuous_move(self, soap: SoapRequest) -> str:
        self._ptz_profile(soap)
        pan = float(soap.attribute("tptz:Velocity/tt:PanTilt", "x") or 0)
        tilt = float(soap.attribute("tptz:Velocity/tt:PanTilt", "y") or 0)
        zoom = float(soap.attribute("tptz:Velocity/tt:Zoom", "x") or 0)
        timeout = soap.text("tptz:Timeout")
        self.ptz.continuous_move(pan, tilt, zoom, parse_duration(timeout) if timeout else None)
        return responses.empty("ContinuousMove", "tptz")

    async def _stop(self, soap: SoapRequest) -> str:
        self._ptz_profile(soap)
        self.ptz.stop(soap.text("tptz:PanTilt") != "false", soap.text("tptz:Zoom") != "false")
        return responses.empty("Stop", "tptz")

    async def _presets(self, soap: SoapRequest) -> str:
        self._ptz_profile(soap)
        return responses.presets(self.ptz.presets.values())

    async def _goto_preset(self, soap: SoapRequest) -> str:
        self._ptz_profile(soap)
        token = soap.text("tptz:PresetToken") or ""
        if token not in self.ptz.presets:
            raise SoapFault("Sender", "ter:NoToken", f"no preset {token!r}")
        self.ptz.goto(token)
        return responses.empty("GotoPreset", "tptz")

    async def _set_preset(self, soap: SoapRequest) -> str:
        self._ptz_profile(soap)
        preset = self.ptz.set_preset(soap.text("tptz:PresetName"), soap.text("tptz:PresetToken"))
        return responses.set_preset(preset.token)

    async def _ptz_status(self, soap: SoapRequest) -> str:
        self._ptz_profile(soap)
        return responses.ptz_status(self.ptz, self.now())

    # ---------------------------------------------------------------------------------------------- events

    async def _create_pull_point(self, soap: SoapRequest) -> str:
        now = self.now()
        text = soap.text("tev:InitialTerminationTime") or "PT60S"
        subscription = self.events.create(parse_termination(text, now))
        address = self.address(f"/onvif/subscription/{subscription.id}")
        return responses.subscription_created(address, now, subscription.terminates_at)

    async def _pull_messages(self, subscription_id: str, soap: SoapRequest) -> str:
        timeout = parse_duration(soap.text("tev:Timeout") or "PT10S")
        try:
            limit = int(soap.text("tev:MessageLimit") or 100)
        except ValueError:
            raise invalid_args("MessageLimit must be an integer") from None
        taken = await self.events.pull(subscription_id, min(timeout, 600.0), max(1, limit))
        subscription = self.events.get(subscription_id)
        return responses.messages(self.now(), subscription.terminates_at, taken)

    def _renew(self, subscription_id: str, soap: SoapRequest) -> str:
        subscription = self.events.get(subscription_id)
        now = self.now()
        subscription.terminates_at = parse_termination(soap.text("wsnt:TerminationTime"), now)
        subscription.renewals += 1
        return responses.renewed(now, subscription.terminates_at)


def test_card(name: str, number: int, size: tuple[int, int] = (640, 360)) -> bytes:
    """A JPEG like a camera's snapshot: a gradient with the camera's name and a counter that changes each time."""
    from PIL import Image, ImageDraw

    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.text((16, 16), f"{name} #{number}", fill=(255, 255, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


__all__ = ["NS", "OnvifSimulator", "test_card"]
