"""The dashboard: server-rendered jinja2 pages from ``frontend/templates`` and the static files of
``frontend/static`` under ``/static``.

Pages render complete on the server, so they read without JavaScript and tests can check their content; small
ES modules then keep them live by polling the REST API (later: following the WebSocket API).

Where ``frontend/`` is: at the repository's top level, next to ``hub/`` (``Path(hub.__file__).parent.parent``).
That holds for a source checkout and an editable install (``make setup``). The wheel packages only ``hub*`` and
``integrations*``, so an installed hub is pointed at a copy with ``GATEHOUSE_FRONTEND=/path/to/frontend``; without
one, the API still runs and the dashboard routes are skipped with a warning.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

import hub as hub_package
from hub.core import State
from hub.http import hub_of
from hub.http.api import VERSION

_LOGGER = logging.getLogger(__name__)

_NOT_CLASS_CHARACTERS = re.compile(r"[^a-z0-9_]+")

FRONTEND_ENV = "GATEHOUSE_FRONTEND"
JINJA_KEY = web.AppKey("jinja", jinja2.Environment)

#: Headings for the domains we know; any other domain gets its name, capitalised.
DOMAIN_TITLES = {
    "lock": "Doors",
    "camera": "Cameras",
    "sensor": "Sensors",
    "binary_sensor": "Binary sensors",
    "switch": "Switches",
    "event": "Events",
    "person": "People",
    "alarm_control_panel": "Alarm panels",
}
#: What ``on`` and ``off`` mean for a binary sensor of each device class, as Home Assistant words them.
BINARY_SENSOR_WORDS = {
    "connectivity": ("disconnected", "connected"),
    "door": ("closed", "open"),
    "lock": ("locked", "unlocked"),
    "motion": ("clear", "detected"),
    "occupancy": ("clear", "detected"),
    "opening": ("closed", "open"),
    "problem": ("ok", "problem"),
    "tamper": ("clear", "tampered"),
}
#: States that carry no value, so no unit either.
NO_VALUE_STATES = frozenset({"unknown", "unavailable"})
#: Domains shown first, in this order: what a security officer looks at first.
DOMAIN_ORDER = ("lock", "camera", "binary_sensor", "sensor")


def frontend_dir() -> Path:
    """``$GATEHOUSE_FRONTEND`` when set, else ``frontend/`` next to the ``hub`` package."""
    configured = os.environ.get(FRONTEND_ENV)
    if configured:
        return Path(configured)
    return Path(hub_package.__file__).resolve().parent.parent / "frontend"


def setup(app: web.Application, directory: Path | None = None) -> None:
    """Add the dashboard's pages and static files to ``app``; skipped with a warning when there is no frontend."""
    directory = directory or frontend_dir()
    templates, static = directory / "templates", directory / "static"
    if not templates.is_dir() or not static.is_dir():
        _LOGGER.warning("No dashboard: %s has no templates/ and static/ (set %s)", directory, FRONTEND_ENV)
        return
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    environment.filters.update(
        relative_time=relative_time, state_class=state_class, display_state=display_state, state_word=state_word
    )
    environment.globals["version"] = VERSION
    app[JINJA_KEY] = environment
    app.add_routes([web.get("/", overview), web.static("/static", static)])


async def overview(request: web.Request) -> web.Response:
    """The hub at a glance: device health, and every entity grouped by domain."""
    hub = hub_of(request)
    health = getattr(hub, "health", None)
    states = hub.states.all()
    template = request.app[JINJA_KEY].get_template("overview.html")
    html = template.render(
        hub_name=(hub.config.get("gatehouse") or {}).get("name") or "Gatehouse",
        summary=health.summary() if health is not None else None,
        groups=group_by_domain(states),
        entity_count=len(states),
        domains={"titles": DOMAIN_TITLES, "order": DOMAIN_ORDER, "binary_sensor_words": BINARY_SENSOR_WORDS},
        now=time.time(),
    )
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})


def group_by_domain(states: Iterable[State]) -> list[dict[str, Any]]:
    """``[{"domain", "title", "states"}]``: known domains first, then the others alphabetically; names sorted."""
    by_domain: dict[str, list[State]] = {}
    for state in states:
        by_domain.setdefault(state.domain, []).append(state)

    def rank(domain: str) -> tuple[int, str]:
        return (DOMAIN_ORDER.index(domain) if domain in DOMAIN_ORDER else len(DOMAIN_ORDER), domain)

    return [
        {
            "domain": domain,
            "title": domain_title(domain),
            "states": sorted(by_domain[domain], key=lambda state: (state.name.lower(), state.entity_id)),
        }
        for domain in sorted(by_domain, key=rank)
    ]


def domain_title(domain: str) -> str:
    return DOMAIN_TITLES.get(domain) or domain.replace("_", " ").capitalize()


def state_word(state: State) -> str:
    """The state in words: a binary sensor's ``on`` of device class ``door`` reads ``open``."""
    if state.domain == "binary_sensor" and state.state in ("on", "off"):
        words = BINARY_SENSOR_WORDS.get(str(state.attributes.get("device_class")))
        if words is not None:
            return words[state.state == "on"]
    return state.state


def state_class(state: str) -> str:
    """A state as a CSS class suffix (``state-excellent``, ``state-unlocked``); overview.js makes the same."""
    return _NOT_CLASS_CHARACTERS.sub("-", state.lower()).strip("-") or "empty"


def display_state(state: State) -> str:
    """The state as people read it: with its unit when it has one (``21.5 °C``)."""
    unit = state.attributes.get("unit_of_measurement")
    word = state_word(state)
    return f"{word} {unit}" if unit and word not in NO_VALUE_STATES else word


def relative_time(timestamp: float, now: float | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago``: the same words overview.js writes."""
    seconds = max(0.0, (time.time() if now is None else now) - timestamp)
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"
