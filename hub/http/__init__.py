"""The hub's HTTP face: the aiohttp application, the JSON REST API under ``/api`` and the dashboard.

Modules by layer, like aiohttp's own: ``server`` (application, runner, route mounting), ``errors`` (the middleware
that turns every failure into one JSON shape), ``api`` (REST handlers), ``dashboard`` (jinja2 pages and the static
files of ``frontend/``). This module holds only what they all share: the typed key under which the application
keeps its hub, and a JSON response that serialises whatever integrations put in state attributes.
"""

from __future__ import annotations

import datetime
import enum
import json
from collections.abc import Mapping, Set
from functools import partial
from typing import Any

from aiohttp import web

from hub.core import Hub

__all__ = ["HUB_KEY", "hub_of", "json_response"]

HUB_KEY = web.AppKey("hub", Hub)


def hub_of(request: web.Request) -> Hub:
    """The hub that serves ``request`` (typed, so handlers need no casts)."""
    return request.app[HUB_KEY]


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


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response that never fails on an attribute value the standard encoder does not know."""
    return web.json_response(data, status=status, dumps=dumps)
