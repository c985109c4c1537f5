"""The dashboard: server-rendered jinja2 pages from ``frontend/templates``, the static files of
``frontend/static`` under ``/static``, and the translations of ``frontend/locales``.

Pages render complete on the server (they read without JavaScript and tests can check their content) through
the caller's ``TenantScope``; small ES modules then keep them live through the WebSocket API and call the REST
API for actions, with the session cookies. The page handlers live in ``hub.http.pages``, one module per page.

Where ``frontend/`` is: at the repository's top level, next to ``hub/`` (``Path(hub.__file__).parent.parent``).
That holds for a source checkout and an editable install (``make setup``). The wheel packages only ``hub*`` and
``integrations*``, so an installed hub is pointed at a copy with ``GATEHOUSE_FRONTEND=/path/to/frontend``; without
one, the API still runs and the dashboard routes are skipped with a warning.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import jinja2
from aiohttp import web

import hub as hub_package
from hub.http import VERSION
from hub.http.i18n import Catalog
from hub.http.pages import page_routes
from hub.http.pages.formatting import (
    display_state,
    iso_time,
    number,
    relative_time,
    state_class,
    state_word,
    translated_word,
    utc_text,
)
from hub.http.pages.rendering import CATALOG_KEY, JINJA_KEY

__all__ = ["FRONTEND_ENV", "JINJA_KEY", "frontend_dir", "setup"]

_LOGGER = logging.getLogger(__name__)

FRONTEND_ENV = "GATEHOUSE_FRONTEND"


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
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        display_state=display_state,
        iso_time=iso_time,
        number=number,
        relative_time=relative_time,
        state_class=state_class,
        state_word=state_word,
        translated_word=translated_word,
        utc_text=utc_text,
    )
    environment.globals["version"] = VERSION
    app[JINJA_KEY] = environment
    app[CATALOG_KEY] = Catalog(directory / "locales")
    app.add_routes([*page_routes(), web.static("/static", static)])
