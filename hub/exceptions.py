"""Errors the hub raises on purpose: each one says what went wrong and, where a user caused it, which field."""

from __future__ import annotations


class HubError(Exception):
    """Base of every error Gatehouse raises deliberately."""


class InvalidEntityId(HubError, ValueError):
    """An entity id does not follow ``domain.object_id`` (lower-case letters, digits, single underscores)."""

    def __init__(self, entity_id: str) -> None:
        super().__init__(
            f"invalid entity id {entity_id!r}: expected 'domain.object_id' made of lower-case letters, "
            "digits and single underscores"
        )
        self.entity_id = entity_id


class ServiceNotFound(HubError, LookupError):
    """No service is registered under that domain and name."""

    def __init__(self, domain: str, service: str) -> None:
        super().__init__(f"service {domain}.{service} not found")
        self.domain = domain
        self.service = service


class ServiceValidationError(HubError, ValueError):
    """Service data failed its schema; ``fields`` maps each bad field (dotted path) to the reason."""

    def __init__(self, domain: str, service: str, fields: dict[str, str]) -> None:
        details = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        super().__init__(f"invalid data for service {domain}.{service}: {details}")
        self.domain = domain
        self.service = service
        self.fields = fields


class Unauthorized(HubError, PermissionError):
    """The caller's tenant or role may not do this (the API layer answers 404 outside the tenant)."""


class ConfigEntryNotReady(HubError):
    """Raised by an integration's set-up when the device is not reachable yet: the hub retries with back-off."""


class ConfigEntryAuthFailed(HubError):
    """Raised by an integration's set-up when credentials are refused: no automatic retry (devices lock accounts)."""


class DeviceClaimConflict(HubError):
    """The serial number is already claimed by another tenant."""


class DeviceError(HubError):
    """A device refused or failed a request (a SOAP fault, an ISAPI error, no answer): the API answers 502."""
