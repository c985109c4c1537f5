"""Constants shared by every module of the public computer stations integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "stations"
#: Stations are registered as devices of their tenant under this manufacturer (serial = the station id).
MANUFACTURER: Final = "Gatehouse station"

# Station status: ``available`` and ``maintenance`` are set by people; ``busy`` and ``offline`` are derived.
STATUS_AVAILABLE: Final = "available"
STATUS_BUSY: Final = "busy"
STATUS_OFFLINE: Final = "offline"
STATUS_MAINTENANCE: Final = "maintenance"
STATION_STATUSES: Final = (STATUS_AVAILABLE, STATUS_BUSY, STATUS_OFFLINE, STATUS_MAINTENANCE)
SETTABLE_STATUSES: Final = (STATUS_AVAILABLE, STATUS_MAINTENANCE)

# Session status and why a session ended.
SESSION_WAITING: Final = "waiting"
SESSION_ACTIVE: Final = "active"
SESSION_FINISHED: Final = "finished"
SESSION_STATUSES: Final = (SESSION_WAITING, SESSION_ACTIVE, SESSION_FINISHED)
LIVE_STATUSES: Final = (SESSION_WAITING, SESSION_ACTIVE)
REASON_TERMINATED: Final = "terminated"
REASON_EXPIRED: Final = "expired"
REASON_CODE_EXPIRED: Final = "code_expired"
REASON_STATION_DELETED: Final = "station_deleted"

# Access codes: 6 characters without 0/O, 1/I/L look-alikes.
CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH: Final = 6
CODE_ATTEMPTS: Final = 20  # fresh codes tried before giving up (a collision is ~1 in 887 million per live session)

# Guessing codes: 5 wrong codes in 5 minutes per station and per client locks them for 5 minutes.
CODE_MAX_FAILURES: Final = 5
CODE_FAILURE_WINDOW: Final = 300.0
INVALID_CODE_MESSAGE: Final = "invalid or expired code"

# Time limits.
MIN_ADD_MINUTES: Final = 1
MAX_ADD_MINUTES: Final = 720
MAX_SESSION_SECONDS: Final = 24 * 3600
DRIFT_TOLERANCE: Final = 30  # seconds between the agent's remaining time and the hub's before a correction

# Visitor photos: JPEG or PNG, base64 in the JSON body.
MAX_PHOTO_BYTES: Final = 512 * 1024

# configuration.yaml defaults.
CONF_HEARTBEAT_INTERVAL: Final = "heartbeat_interval"
CONF_OFFLINE_AFTER: Final = "offline_after"
CONF_WARN_MINUTES: Final = "warn_minutes"
CONF_CODE_TTL_HOURS: Final = "code_ttl_hours"
CONF_LOG_RETENTION_DAYS: Final = "log_retention_days"
DEFAULT_HEARTBEAT_INTERVAL: Final = 10
DEFAULT_OFFLINE_AFTER: Final = 30
DEFAULT_WARN_MINUTES: Final = (5, 1)
DEFAULT_CODE_TTL_HOURS: Final = 24
DEFAULT_LOG_RETENTION_DAYS: Final = 365

# Events on the bus (tenant-scoped; never carrying an access code).
EVENT_SESSION_STARTED: Final = "station_session_started"
EVENT_SESSION_ENDING: Final = "station_session_ending"
EVENT_SESSION_ENDED: Final = "station_session_ended"
EVENT_STATUS_CHANGED: Final = "station_status_changed"

# Audit log actions.
ACTION_SESSION_CREATE: Final = "session.create"
ACTION_SESSION_VALIDATE: Final = "session.validate"
ACTION_SESSION_ADD_TIME: Final = "session.add_time"
ACTION_SESSION_TERMINATE: Final = "session.terminate"
ACTION_SESSION_EXPIRE: Final = "session.expire"
ACTION_CODE_REJECTED: Final = "code.rejected"
ACTION_STATION_CREATE: Final = "station.create"
ACTION_STATION_UPDATE: Final = "station.update"
ACTION_STATION_DELETE: Final = "station.delete"
ACTION_STATION_STATUS: Final = "station.status"
ACTION_STATION_TOKEN: Final = "station.token"
ACTION_STATION_WARN: Final = "station.warn"
ACTION_VISITOR_CREATE: Final = "visitor.create"
ACTION_VISITOR_UPDATE: Final = "visitor.update"
ACTION_VISITOR_ERASE: Final = "visitor.erase"
ACTOR_AUTOMATION: Final = "automation"
ACTOR_SYSTEM: Final = "system"

NOT_SET_UP_MESSAGE: Final = "the stations integration is not set up: add `stations:` to configuration.yaml"
