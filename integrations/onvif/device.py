"""One configured ONVIF device at run time: its client, camera, event sensors, health and registry entry.

Set-up follows Home Assistant's order (REFERENCE.md §4.5): clock and services, device information, profiles,
stream and snapshot URIs, PTZ, and events last, since some cameras are slow for a while after subscribing.
The health check asks GetDeviceInformation (authenticated, small); when the device comes back after being
offline the session is rebuilt (a rebooted camera may have a new clock and new stream URIs).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from hub.config_entries import ConfigEntry
from hub.core import Event, Hub
from hub.device_health import EVENT_DEVICE_HEALTH_CHANGED, DeviceHealth, HealthLevel
from hub.device_registry import Device
from hub.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady, DeviceClaimConflict, HubError
from hub.redact import redact_url
from hub.validation import slugify

from .binary_sensor import OnvifBinarySensor, sensor_unique_id
from .camera import OnvifCamera
from .client import OnvifClient
from .const import (
    CLOCK_SKEW_WARNING_SECONDS,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_PROFILE_TOKEN,
    CONF_RTSP_TRANSPORT,
    CONF_USERNAME,
    DOMAIN,
    HEALTH_INTERVAL_SECONDS,
    SNAPSHOT_TIMEOUT_SECONDS,
)
from .errors import OnvifAuthError, OnvifError
from .events import LiveSubscription, PullPointEvents
from .models import DeviceInfo, MediaProfile, Preset
from .topics import OnvifEvent, SensorKind, TopicRule, rule_for, source_of, state_of
from .uris import usable_uri, with_credentials

_LOGGER = logging.getLogger(__name__)

EVENT_ONVIF = "onvif_event"
_DOWN = frozenset({HealthLevel.OFFLINE.value, HealthLevel.AUTH_FAILED.value})


class InvalidProfile(HubError, ValueError):
    """The configured profile token is not one of the device's profiles."""


def choose_profile(profiles: list[MediaProfile], token: str | None) -> MediaProfile:
    """The configured profile, else the largest H.264 one (what a browser plays without re-encoding), else the
    largest of any codec."""
    if token:
        for profile in profiles:
            if profile.token == token:
                return profile
        available = ", ".join(profile.token for profile in profiles)
        raise InvalidProfile(f"profile_token: the device has no profile {token!r} (it has: {available})")
    h264 = [profile for profile in profiles if (profile.codec or "").upper() == "H264"]
    return max(h264 or profiles, key=lambda profile: profile.pixels)


class OnvifDevice:
    """Everything one config entry runs; ``entry.runtime_data`` holds it."""

    def __init__(self, hub: Hub, entry: ConfigEntry) -> None:
        data = entry.data
        self.hub = hub
        self.entry = entry
        self.host: str = data[CONF_HOST]
        self.port: int = data[CONF_PORT]
        self.rtsp_transport: str = data[CONF_RTSP_TRANSPORT]
        self.name = entry.title
        self.client = OnvifClient(self.host, self.port, data.get(CONF_USERNAME, ""), data.get(CONF_PASSWORD, ""))
        self.info = DeviceInfo("", "", "", "", "")
        self.profile = MediaProfile("", "")
        self.profiles: list[MediaProfile] = []
        self.presets: list[Preset] = []
        self.stream_url: str | None = None
        self.snapshot_uri: str | None = None
        self.device: Device | None = None
        self.camera: OnvifCamera | None = None
        self.health: DeviceHealth | None = None
        self.events: PullPointEvents | None = None
        self.sensors: dict[str, OnvifBinarySensor] = {}
        self._unknown_topics: set[str] = set()
        self._http: aiohttp.ClientSession | None = None
        self._refresh: asyncio.Task[None] | None = None

    @property
    def serial(self) -> str:
        """The registry identity: the serial number, else the MAC, else the address."""
        return self.info.serial_number or self.info.mac or f"{self.host}:{self.port}"

    @property
    def manufacturer(self) -> str:
        return self.info.manufacturer or "ONVIF"

    @property
    def supports_ptz(self) -> bool:
        return self.client.has_ptz and self.profile.ptz

    # -------------------------------------------------------------------------------------------- set-up

    async def async_setup(self) -> None:
        """Connect and read the device, then register it, its camera, its health and its events."""
        self.entry.on_unload(self.async_close)
        try:
            await self._read_device()
        except OnvifAuthError as err:
            raise ConfigEntryAuthFailed(str(err)) from err
        except OnvifError as err:
            raise ConfigEntryNotReady(str(err)) from err
        await self._register()
        if self.client.has_events:
            resume = self._subscriptions().pop(self._subscription_key, None)
            self.events = PullPointEvents(self.client, self._on_events, name=self.name, resume=resume)
            self.events.start(self.hub.create_background_task)

    async def _read_device(self) -> None:
        client = self.client
        await client.connect()
        if abs(client.clock_offset) > CLOCK_SKEW_WARNING_SECONDS:
            _LOGGER.warning(
                "%s: the camera's clock is %.0f s %s ours; requests are stamped on its clock",
                self.name, abs(client.clock_offset), "ahead of" if client.clock_offset > 0 else "behind",
            )  # fmt: skip
        self.info = await client.device_info()
        self.profiles = await client.profiles()
        if not self.profiles:
            raise OnvifError("GetProfiles: the device has no media profile")
        self.profile = choose_profile(self.profiles, self.entry.data.get(CONF_PROFILE_TOKEN))
        await self._read_uris()
        if self.supports_ptz:
            try:
                self.presets = await client.presets(self.profile.token)
            except OnvifAuthError:
                raise
            except OnvifError as err:
                _LOGGER.debug("%s: no PTZ presets: %s", self.name, err)

    async def _read_uris(self) -> None:
        client = self.client
        raw = await client.stream_uri(self.profile.token, self.rtsp_transport)
        stream, rewritten = await usable_uri(raw, self.host)
        if rewritten:
            _LOGGER.info("%s: the camera's stream host cannot be reached, using %s", self.name, redact_url(stream))
        self.stream_url = with_credentials(stream, client.username, client.password)
        snapshot = await client.snapshot_uri(self.profile.token)
        self.snapshot_uri = (await usable_uri(snapshot, self.host))[0] if snapshot else None

    async def _register(self) -> None:
        hub, entry = self.hub, self.entry
        try:
            if entry.tenant_id is not None:
                await hub.devices.claim(entry.tenant_id, self.manufacturer, self.serial, self.name)
        except DeviceClaimConflict as err:
            raise HubError(f"{err}: remove it there first") from err
        self.device = await hub.devices.connected(
            self.manufacturer,
            self.serial,
            name=self.name,
            model=self.info.model or None,
            sw_version=self.info.firmware_version or None,
            config_entry_id=entry.entry_id,
        )
        key = slugify(f"onvif {self.serial}")
        self.health = hub.health.track(
            key,
            self.name,
            check=self._check,
            interval=HEALTH_INTERVAL_SECONDS,
            device_id=self.device.id,
            tenant_id=self.device.tenant_id,
        )
        entry.on_unload(lambda: hub.health.untrack(key))
        entry.on_unload(hub.bus.listen(EVENT_DEVICE_HEALTH_CHANGED, self._health_changed,
                                       lambda event: event.data["device_key"] == key))  # fmt: skip
        self.camera = OnvifCamera(self)
        self.camera.health = self.health
        await hub.entities.add(self.camera, platform=DOMAIN, config_entry=entry, device=self.device)

    @property
    def _subscription_key(self) -> tuple[str, int, str]:
        return (self.host, self.port, self.client.username)

    def _subscriptions(self) -> dict[tuple[str, int, str], LiveSubscription]:
        """Live subscriptions of stopped event loops, per device and account, for the next set-up to resume."""
        store: dict[tuple[str, int, str], LiveSubscription] = self.hub.data.setdefault(f"{DOMAIN}_subscriptions", {})
        return store

    async def async_close(self) -> None:
        """Stop the events (no Unsubscribe: kept for the next set-up), the refresh, and every connection."""
        if self.events is not None and (live := await self.events.stop()) is not None:
            self._subscriptions()[self._subscription_key] = live
        if self._refresh is not None and not self._refresh.done():
            self._refresh.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.client.close()

    # -------------------------------------------------------------------------------------------- health

    async def _check(self) -> None:
        try:
            if not self.client.connected:  # the last reconnection failed half-way
                await self.client.connect()
            await self.client.device_info(with_mac=False)
        except OnvifAuthError as err:
            raise ConfigEntryAuthFailed(str(err)) from err

    def _health_changed(self, event: Event[Any]) -> None:
        """Entities follow the device's health; going down marks it OFFLINE, coming back refreshes the session."""
        old, new = event.data["old_level"], event.data["new_level"]
        online = new not in _DOWN
        for entity in (self.camera, *self.sensors.values()):
            if entity is not None:
                entity.set_available(online)
        if online and old in _DOWN:
            if self._refresh is None or self._refresh.done():
                self._refresh = self.hub.create_task(self._reconnected(), f"onvif refresh {self.name}")
        elif not online and old not in _DOWN and self.device is not None:
            self.hub.create_task(self.hub.devices.disconnected(self.device.id), f"onvif offline {self.name}")

    async def _reconnected(self) -> None:
        """Back after an outage: a fresh session (clock offset), the stream URI again, events again, ACTIVE."""
        if self.events is not None:
            await self.events.stop()
        try:
            await self.client.connect()
            await self._read_uris()
        except OnvifError as err:
            _LOGGER.warning("%s: back online but could not refresh the session: %s", self.name, err)
        if self.events is not None:
            self.events.start(self.hub.create_background_task)
        if self.device is not None:
            await self.hub.devices.connected(self.manufacturer, self.serial)

    # ---------------------------------------------------------------------------------------------- stills

    async def snapshot(self) -> bytes | None:
        """A JPEG from the device's snapshot URL; None when it has none (raises OnvifError when it fails)."""
        if self.snapshot_uri is None:
            return None
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return await self.client.fetch_snapshot(self._http, self.snapshot_uri, SNAPSHOT_TIMEOUT_SECONDS)

    # ---------------------------------------------------------------------------------------------- events

    async def _on_events(self, events: list[OnvifEvent]) -> None:
        for event in events:
            self._fire(event)
            rule = rule_for(event.topic)
            if rule is None:
                self._unknown(event.topic, f"no handler for event topic {event.topic} (data {dict(event.data)})")
                continue
            state = state_of(rule, event)
            if state is None:
                self._unknown(event.topic, f"cannot read {rule.data_item} in {event.topic} (data {dict(event.data)})")
                continue
            sensor = await self._sensor(rule, source_of(rule, event))
            if rule.pulse is not None and state:
                sensor.pulse(rule.pulse)
            else:
                sensor.set_on(state)

    def _unknown(self, topic: str, message: str) -> None:
        if topic not in self._unknown_topics:  # once per topic and device: cameras repeat them all day
            self._unknown_topics.add(topic)
            _LOGGER.info("%s: %s; ignored", self.name, message)

    def _fire(self, event: OnvifEvent) -> None:
        """Every message also goes on the bus as ``onvif_event``, for automations on vendor topics."""
        self.hub.bus.fire(
            EVENT_ONVIF,
            {
                "device_id": self.device.id if self.device else None,
                "topic": event.topic,
                "operation": event.operation,
                "source": dict(event.source),
                "data": dict(event.data),
            },
            tenant_id=self.device.tenant_id if self.device else self.entry.tenant_id,
        )

    async def _sensor(self, rule: TopicRule, source: str) -> OnvifBinarySensor:
        """The sensor for this rule and source, added on first use (events come one batch at a time)."""
        unique_id = sensor_unique_id(self.serial, rule, source)
        sensor = self.sensors.get(unique_id)
        if sensor is None:
            sensor = OnvifBinarySensor(
                self.serial, self.name, rule, source, numbered=rule.kind is SensorKind.DIGITAL_INPUT,
                available=self.health is None or self.health.level not in _DOWN,
            )  # fmt: skip
            await self.hub.entities.add(sensor, platform=DOMAIN, config_entry=self.entry, device=self.device)
            self.sensors[unique_id] = sensor
        return sensor
