"""Constants shared by the ONVIF integration's modules: configuration keys, services, timings, namespaces."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "onvif"

CONF_HOST: Final = "host"
CONF_PORT: Final = "port"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"
CONF_PROFILE_TOKEN: Final = "profile_token"
CONF_RTSP_TRANSPORT: Final = "rtsp_transport"

DEFAULT_PORT: Final = 80
RTSP_TRANSPORTS: Final = ("tcp", "udp", "http")

SERVICE_PTZ_MOVE: Final = "ptz_move"
SERVICE_PTZ_STOP: Final = "ptz_stop"
SERVICE_GOTO_PRESET: Final = "goto_preset"
SERVICE_SET_PRESET: Final = "set_preset"

ATTR_PAN: Final = "pan"
ATTR_TILT: Final = "tilt"
ATTR_ZOOM: Final = "zoom"
ATTR_DURATION: Final = "duration"
ATTR_PRESET: Final = "preset"
ATTR_NAME: Final = "name"
ATTR_SPEED: Final = "speed"

# PullPoint events, as Home Assistant learned the hard way (REFERENCE.md §4.5): a 10 min subscription renewed at
# 8 min, 60 s long polls of up to 100 messages, a restart 60 s after an error, and never an Unsubscribe.
SUBSCRIPTION_SECONDS: Final = 600.0
RENEW_AFTER_SECONDS: Final = 480.0
PULL_TIMEOUT_SECONDS: Final = 60.0
PULL_MESSAGE_LIMIT: Final = 100
EVENTS_RETRY_SECONDS: Final = 60.0

# Clock skew above this is logged: WS-Security digests carry a timestamp the camera checks against its own clock.
CLOCK_SKEW_WARNING_SECONDS: Final = 5.0
HEALTH_INTERVAL_SECONDS: Final = 60.0
SNAPSHOT_TIMEOUT_SECONDS: Final = 10.0

WS_DISCOVERY_ADDRESS: Final = "239.255.255.250"
WS_DISCOVERY_PORT: Final = 3702
