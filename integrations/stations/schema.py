"""The ``stations:`` section of configuration.yaml and the REST bodies, as voluptuous schemas.

A bad value fails with a message naming the field (``minutes``, ``consent``, ``photo``...), which the hub answers
as a 400 listing the fields at fault.
"""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol

from hub.http.params import limit, timestamp

from .const import (
    CONF_CODE_TTL_HOURS,
    CONF_HEARTBEAT_INTERVAL,
    CONF_LOG_RETENTION_DAYS,
    CONF_OFFLINE_AFTER,
    CONF_WARN_MINUTES,
    DEFAULT_CODE_TTL_HOURS,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_OFFLINE_AFTER,
    DEFAULT_WARN_MINUTES,
    MAX_ADD_MINUTES,
    MAX_SESSION_SECONDS,
    SESSION_STATUSES,
    SETTABLE_STATUSES,
)
from .store import MAX_PAGE

_SECONDS = vol.All(vol.Coerce(float), vol.Range(min=0.05, max=3600))


def _offline_after_beats(config: dict[str, Any]) -> dict[str, Any]:
    if config[CONF_OFFLINE_AFTER] < config[CONF_HEARTBEAT_INTERVAL]:
        raise vol.Invalid("must be at least heartbeat_interval (3 intervals is usual)", path=[CONF_OFFLINE_AFTER])
    return config


CONFIG_SCHEMA = vol.Schema(
    vol.All(
        vol.Schema(
            {
                vol.Optional(CONF_HEARTBEAT_INTERVAL, default=DEFAULT_HEARTBEAT_INTERVAL): vol.All(
                    vol.Coerce(float), vol.Range(min=0.1, max=300)
                ),
                vol.Optional(CONF_OFFLINE_AFTER, default=DEFAULT_OFFLINE_AFTER): vol.All(
                    vol.Coerce(float), vol.Range(min=0.1, max=3600)
                ),
                vol.Optional(CONF_WARN_MINUTES, default=list(DEFAULT_WARN_MINUTES)): vol.All(
                    [vol.All(vol.Coerce(int), vol.Range(min=1, max=120))], vol.Length(max=10)
                ),
                vol.Optional(CONF_CODE_TTL_HOURS, default=DEFAULT_CODE_TTL_HOURS): vol.All(
                    vol.Coerce(float), vol.Range(min=0.01, max=24 * 30)
                ),
                vol.Optional(CONF_LOG_RETENTION_DAYS, default=DEFAULT_LOG_RETENTION_DAYS): vol.All(
                    vol.Coerce(int), vol.Range(min=1, max=36500)
                ),
                # How often the jobs run (tests and demos shorten them; the defaults are the issue's).
                vol.Optional("expire_interval"): _SECONDS,
                vol.Optional("warn_interval"): _SECONDS,
                vol.Optional("sweep_interval"): _SECONDS,
                vol.Optional("remaining_interval"): _SECONDS,
            }
        ),
        _offline_after_beats,
    )
)


def _none_if_blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


_TEXT = vol.All(str, vol.Strip, vol.Length(min=1, max=128))
_OPTIONAL_TEXT = vol.Any(None, vol.All(_none_if_blank, vol.Any(None, _TEXT)))
_EMAIL = vol.Any(
    None,
    vol.All(
        _none_if_blank,
        vol.Any(
            None,
            vol.All(
                str,
                vol.Strip,
                vol.Length(max=255),
                vol.Match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", msg="expected an e-mail address"),
            ),
        ),
    ),
)
_PHONE = vol.Any(
    None,
    vol.All(
        _none_if_blank,
        vol.Any(None, vol.All(str, vol.Strip, vol.Match(r"^[0-9+().\-\s]{3,40}$", msg="expected a phone number"))),
    ),
)
_IP = re.compile(r"^[0-9A-Fa-f:.]{2,45}$")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}([-:]?[0-9A-Fa-f]{2}){5}$")


def _ip_address(value: Any) -> str | None:
    value = _none_if_blank(value)
    if value is None:
        return None
    import ipaddress

    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise vol.Invalid("expected an IPv4 or IPv6 address") from None


def _mac(value: Any) -> str | None:
    value = _none_if_blank(value)
    if value is None:
        return None
    text = str(value).strip()
    if not _MAC.match(text):
        raise vol.Invalid("expected a MAC address such as 00:11:22:33:44:55")
    digits = re.sub(r"[-:]", "", text).upper()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _must_be_true(value: Any) -> bool:
    if value is not True:
        raise vol.Invalid("the visitor's consent is required (true), with its date")
    return True


# --------------------------------------------------------------------------------------------------- visitors

_VISITOR_FIELDS: dict[Any, Any] = {
    vol.Optional("email"): _EMAIL,
    vol.Optional("phone"): _PHONE,
    vol.Optional("id_document", description="the identity document shown (kind and number)"): _OPTIONAL_TEXT,
    vol.Optional("photo", description="base64 JPEG or PNG (at most 512 KiB), or null to remove it"): vol.Any(None, str),
}
VISITOR_CREATE = vol.Schema(
    {
        vol.Required("last_name"): _TEXT,
        vol.Optional("first_name"): _OPTIONAL_TEXT,
        vol.Required("consent", description="GDPR consent: must be true"): _must_be_true,
        vol.Optional("consent_at", description="when consent was given (default: now)"): timestamp,
        **_VISITOR_FIELDS,
        vol.Optional("tenant_id", description="platform administrators: the visitor's tenant"): str,
    }
)
VISITOR_UPDATE = vol.Schema(
    {
        vol.Optional("last_name"): _TEXT,
        vol.Optional("first_name"): _OPTIONAL_TEXT,
        vol.Optional("consent"): _must_be_true,
        vol.Optional("consent_at"): timestamp,
        **_VISITOR_FIELDS,
    }
)
VISITORS_QUERY = vol.Schema(
    {
        vol.Optional("q", description="part of a name, e-mail, phone or document"): vol.All(str, vol.Length(max=128)),
        vol.Optional("limit", default=100): limit(MAX_PAGE),
        vol.Optional("offset", default=0): vol.All(vol.Coerce(int), vol.Range(min=0)),
    }
)

# --------------------------------------------------------------------------------------------------- stations

STATION_CREATE = vol.Schema(
    {
        vol.Required("name"): _TEXT,
        vol.Optional("address", description="the station's IP address (its agent may use it in its URL)"): _ip_address,
        vol.Optional("mac"): _mac,
        vol.Optional("tenant_id", description="platform administrators: the station's tenant"): str,
    }
)
STATION_UPDATE = vol.Schema(
    {vol.Optional("name"): _TEXT, vol.Optional("address"): _ip_address, vol.Optional("mac"): _mac}
)
STATION_STATUS = vol.Schema(
    {vol.Required("status"): vol.In(SETTABLE_STATUSES, msg="expected available or maintenance")}
)

# --------------------------------------------------------------------------------------------------- sessions


def whole_minutes(low: int, high: int) -> Any:
    """An integer number of minutes in [low, high]: 1.5, true or "ten" are refused, not rounded."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str | float):
            raise vol.Invalid(f"expected a whole number of minutes from {low} to {high}")
        if isinstance(value, float) and not value.is_integer():
            raise vol.Invalid(f"expected a whole number of minutes from {low} to {high}")
        try:
            minutes = int(value)
        except ValueError:
            raise vol.Invalid(f"expected a whole number of minutes from {low} to {high}") from None
        if not low <= minutes <= high:
            raise vol.Invalid(f"expected a whole number of minutes from {low} to {high}, got {minutes}")
        return minutes

    return check


_MINUTES = whole_minutes(1, MAX_SESSION_SECONDS // 60)
SESSION_CREATE = vol.Schema(
    {
        vol.Required("minutes", description="initial duration (1 to 1440)"): _MINUTES,
        vol.Optional("station_id", description="bind the code to this station (else any station accepts it)"): vol.Any(
            None, str
        ),
        vol.Optional("visitor_id"): vol.Any(None, str),
        vol.Optional("tenant_id", description="platform administrators: the session's tenant"): str,
    }
)
VALIDATE_CODE = vol.Schema(
    {vol.Required("code"): vol.All(str, vol.Length(min=1, max=32)), vol.Required("station_id"): str}
)
ADD_TIME = vol.Schema(
    {
        vol.Required("minutes", description=f"1 to {MAX_ADD_MINUTES}; a session lasts at most 24 h"): whole_minutes(
            1, MAX_ADD_MINUTES
        )
    }
)
SESSIONS_QUERY = vol.Schema(
    {
        vol.Optional("status"): vol.In(SESSION_STATUSES),
        vol.Optional("station"): str,
        vol.Optional("visitor"): str,
        vol.Optional("limit", default=100): limit(MAX_PAGE),
        vol.Optional("offset", default=0): vol.All(vol.Coerce(int), vol.Range(min=0)),
    }
)
LOGS_QUERY = vol.Schema(
    {
        vol.Optional("station"): str,
        vol.Optional("session"): str,
        vol.Optional("visitor"): str,
        vol.Optional("action"): str,
        vol.Optional("before_id", description="the smallest id of the previous page"): vol.All(
            vol.Coerce(int), vol.Range(min=1)
        ),
        vol.Optional("limit", default=100): limit(MAX_PAGE),
    }
)
