"""Validators for query strings and bodies shared by the resource modules, with their OpenAPI descriptions.

Query values arrive as text: these coerce them (``limit=50`` to 50, ``start=2026-01-01T08:00`` to epoch
seconds) and fail with a message that names what was expected; ``openapi_type`` tells the document about them.
``acting_tenant`` resolves the tenant a write acts for (yours, or the one a platform administrator names).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.auth.scope import NotFound, TenantScope
from hub.http.errors import ApiError

__all__ = ["acting_tenant", "boolean", "limit", "openapi_type", "timestamp"]


def timestamp(value: Any) -> float:
    """Epoch seconds from a number or from ISO 8601 text (a time without an offset is UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise vol.Invalid("expected ISO 8601 or epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def boolean(value: Any) -> bool:
    """``true``/``false``, ``1``/``0``, ``yes``/``no`` (query strings), or a JSON boolean."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise vol.Invalid("expected true or false")


def limit(maximum: int) -> vol.All:
    """A positive whole number up to ``maximum``."""
    return vol.All(vol.Coerce(int), vol.Range(min=1, max=maximum))


_OPENAPI_TYPES: dict[Callable[..., Any], dict[str, Any]] = {
    timestamp: {"type": "string", "description": "ISO 8601 or epoch seconds"},
    boolean: {"type": "boolean"},
}


def openapi_type(value: Any) -> Any:
    """voluptuous-openapi's ``custom_serializer``: our validators as OpenAPI types."""
    import voluptuous_openapi

    if callable(value) and (described := _OPENAPI_TYPES.get(value)) is not None:
        return dict(described)
    if value is object:
        return {}
    return voluptuous_openapi.UNSUPPORTED


def acting_tenant(scope: TenantScope, requested: str | None) -> str:
    """The caller's own tenant, or (platform administrators) the one they name; an unseen tenant is 404."""
    tenant_id = requested or scope.caller.tenant_id
    if tenant_id is None:
        raise ApiError(400, "invalid_data", "name the tenant to act for", {"tenant_id": "required"})
    if not scope.sees(tenant_id) or scope.hub.tenants.get(tenant_id) is None:
        raise NotFound("tenant", tenant_id)
    return tenant_id
