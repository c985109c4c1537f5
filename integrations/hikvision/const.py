"""Constants shared by the Hikvision integration's modules: names, configuration keys, events, defaults."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "hikvision"
#: The device registry's manufacturer for every Hikvision device (serial = the device's ``serialNumber``).
MANUFACTURER: Final = "Hikvision"

# Config entry keys (a directly reachable ISAPI device, owned by a tenant).
CONF_HOST: Final = "host"
CONF_PORT: Final = "port"
CONF_HTTPS: Final = "https"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"
CONF_NAME: Final = "name"
CONF_EVENT_MODE: Final = "event_mode"
CONF_VERIFY_SSL: Final = "verify_ssl"
CONF_POLL_INTERVAL: Final = "poll_interval"

# configuration.yaml keys (``hikvision:``, the platform administrator's).
CONF_GATEWAYS: Final = "gateways"
CONF_URL: Final = "url"
CONF_SYNC_INTERVAL: Final = "sync_interval"
CONF_WEBHOOK_SECRET: Final = "webhook_secret"
CONF_PUSH_URL: Final = "push_url"
CONF_BACKFILL_HOURS: Final = "backfill_hours"
CONF_EVENT_TIMEOUT: Final = "event_timeout"

EVENT_MODE_STREAM: Final = "stream"
EVENT_MODE_PUSH: Final = "push"
EVENT_MODE_NONE: Final = "none"
EVENT_MODES: Final = (EVENT_MODE_STREAM, EVENT_MODE_PUSH, EVENT_MODE_NONE)

#: Every ISAPI event (motion, line crossing, an access-controller record that is not a person's scan...).
EVENT_HIKVISION: Final = "hikvision_event"

DEFAULT_SYNC_INTERVAL: Final = 30.0
DEFAULT_POLL_INTERVAL: Final = 60.0
#: On the very first connection, how far back the access history is read (later: from the last stored event).
DEFAULT_BACKFILL_HOURS: Final = 24.0
#: A detection (motion...) that is not repeated or ended within this many seconds is over.
DEFAULT_EVENT_TIMEOUT: Final = 5.0
#: An alert stream that sends nothing (not even the ~10 s keep-alive) for this long is dead.
STREAM_SILENCE_TIMEOUT: Final = 40.0
#: A subscribeDeviceMgmt stream without a heartbeat for this long is re-subscribed (the gateway's guide: 30 s).
GATEWAY_STREAM_TIMEOUT: Final = 30.0
#: Before reopening a stream that broke while the device still answered: a device that keeps truncating its
#: stream is not hammered (seconds, growing; reset once a stream stays up for STREAM_HEALTHY_AFTER).
STREAM_RESTART_DELAYS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
STREAM_HEALTHY_AFTER: Final = 60.0
#: The backfill starts this long before the last stored event (device and hub clocks differ a little).
BACKFILL_MARGIN: Final = 120.0
#: Webhook requests are refused when their timestamp is further than this from now (replays, stale).
WEBHOOK_MAX_AGE: Final = 300.0
#: The lock shows "unlocked" this long after a remote open (the relay time is not reported back).
UNLOCKED_FOR: Final = 5.0

SERVICE_OPEN_DOOR: Final = "open_door"
SERVICE_CLOSE_DOOR: Final = "close_door"
SERVICE_DOOR_ALWAYS_OPEN: Final = "door_always_open"
SERVICE_DOOR_ALWAYS_CLOSED: Final = "door_always_closed"
SERVICE_PUSH_PERSON: Final = "push_person"
SERVICE_DELETE_PERSON: Final = "delete_person"
SERVICE_PULL_USERS: Final = "pull_users"
SERVICE_BACKFILL: Final = "backfill"
SERVICE_ADD_TO_GATEWAY: Final = "add_to_gateway"
SERVICE_SYNC_GATEWAY: Final = "sync_gateway"

ATTR_SERIAL_NO: Final = "serial_no"
ATTR_CARD_NO: Final = "card_no"
ATTR_MAJOR: Final = "major"
ATTR_MINOR: Final = "minor"
ATTR_DOOR: Final = "door"
