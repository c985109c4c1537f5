"""The hub's HTTP face: the aiohttp application, the JSON REST API under ``/api`` and the dashboard.

Modules by layer, like aiohttp's own: ``server`` (application, runner, route mounting), ``routing`` (the
``api_route`` declarations: method, path, minimum role, OpenAPI facts), ``middleware`` (who is asking, and may
they call this route), ``errors`` (every failure in one JSON shape), ``openapi`` (the document and the docs
page), ``metrics`` (Prometheus), one ``api_<resource>`` module per REST resource, and ``dashboard``.
This module holds only what they all share: the typed keys under which the application keeps its hub and a
request keeps its caller, and a JSON response that serialises whatever integrations put in state attributes.
"""

from __future__ import annotations

import datetime
import enum
import importlib.metadata
import json
from collections.abc import Mapping, Set
from functools import partial
from typing import Any

from aiohttp import web

from hub.auth.scope import Caller, TenantScope
from hub.core import Hub

__all__ = [
    "CALLER_KEY",
    "HUB_KEY",
    "SCOPE_KEY",
    "VERSION",
    "audit",
    "caller_of",
    "dumps",
    "hub_of",
    "json_response",
    "scope_of",
]

try:
    VERSION = importlib.metadata.version("gatehouse")
except importlib.metadata.PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0+unknown"

HUB_KEY = web.AppKey("hub", Hub)
#: Set by the authentication middleware on every request that carried valid credentials.
CALLER_KEY = web.RequestKey("caller", Caller)
SCOPE_KEY = web.RequestKey("scope", TenantScope)


def hub_of(request: web.Request) -> Hub:
    """The hub that serves ``request`` (typed, so handlers need no casts)."""
    return request.app[HUB_KEY]


def caller_of(request: web.Request) -> Caller | None:
    """Who is asking: None when the request carried no valid credentials (public routes, dashboard log-in)."""
    return request.get(CALLER_KEY)


def scope_of(request: web.Request) -> TenantScope:
    """The hub as the caller may see it: every handler reads and writes through this, never around it.

    Raises 401 when nobody is signed in (only public routes and pages get that far without a caller).
    """
    scope = request.get(SCOPE_KEY)
    if scope is None:
        raise web.HTTPUnauthorized(text="sign in first", headers={"WWW-Authenticate": "Bearer"})
    return scope


def _to_json(value: Any) -> Any:
    """Attributes may hold datetimes, enums, sets or objects with ``as_dict``: JSON gets a faithful equivalent."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Set | tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    return str(value)


dumps = partial(json.dumps, default=_to_json)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response that never fails on an attribute value the standard encoder does not know."""
    return web.Response(text=dumps(data), status=status, content_type="application/json", headers=headers)


async def audit(
    request: web.Request,
    action: str,
    *,
    target: str | None = None,
    tenant_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record what the caller did in the audit log, under the tenant that owns the thing it was done to."""
    auth = getattr(hub_of(request), "auth", None)
    if auth is None:
        return
    caller = caller_of(request)
    owner = tenant_id if tenant_id is not None else (caller.tenant_id if caller is not None else None)
    await auth.audit.record(
        caller,
        action,
        target=target,
        details=dict(details) if details is not None else None,
        address=request.remote,
        tenant_id=owner,
    )
