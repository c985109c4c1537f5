"""The dashboard: server-rendered jinja2 pages from ``frontend/templates``, the static files of
``frontend/static`` under ``/static``, and the translations of ``frontend/locales``.

Pages render complete on the server (they read without JavaScript and tests can check their content) through
the caller's ``TenantScope``; small ES modules then keep them live through the WebSocket API and call the REST
API for actions, with the session cookies. The page handlers live in ``hub.http.pages``, one module per page.

Where ``frontend/`` is: at the repository's top level, next to ``hub/`` (``Path(hub.__file__).parent.parent``).
That holds for a source checkout and an editable install (``make setup``). The wheel packages only ``hub*`` and
``integrations*``, so an installed hub is pointed at a copy with ``GATEHOUSE_FRONTEND=/path/to/frontend``; without
one, the API still runs and the dashboard routes are skipped with a warning.

Integrations add pages through the ``dashboard_pages`` hook (``DashboardPages``): their routes, wrapped with
``page_handler`` like the core's; their templates, found as ``<domain>/<name>.html`` (so they extend the core's
``base.html`` and import ``_macros.html`` by name); their static files under ``/static/<domain>/``; their
translations (keys prefixed with the domain); and their header links.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import jinja2
from aiohttp import web

import hub as hub_package
from hub.auth.scope import Role
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
from hub.http.pages.rendering import (
    CATALOG_KEY,
    JINJA_KEY,
    NAVIGATION,
    NAVIGATION_KEY,
    NavLink,
    Page,
    Rendered,
    page_handler,
)

__all__ = [
    "FRONTEND_ENV",
    "JINJA_KEY",
    "DashboardPages",
    "NavLink",
    "Page",
    "Rendered",
    "add_pages",
    "frontend_dir",
    "page_handler",
    "setup",
]

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
        # The core's templates by name; an integration's as "<domain>/<name>.html" (add_pages fills the prefixes).
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(templates), jinja2.PrefixLoader({})]),
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
    app[NAVIGATION_KEY] = list(NAVIGATION)
    app.add_routes([*page_routes(), web.static("/static", static)])


@dataclass(frozen=True, slots=True)
class DashboardPages:
    """What an integration adds to the dashboard (the ``dashboard_pages`` hook); every part but ``domain`` is
    optional. ``nav`` links go into the header, before the administrators' pages."""

    domain: str
    routes: Sequence[web.RouteDef] = ()
    templates: Path | None = None
    static: Path | None = None
    locales: Path | None = None
    nav: Sequence[NavLink] = ()


def add_pages(app: web.Application, pages: DashboardPages) -> None:
    """Add one integration's pages to the dashboard; all of them or none (a path already served raises)."""
    if JINJA_KEY not in app:
        return  # no dashboard at all (no frontend folder): the API still runs
    for folder in (pages.templates, pages.static, pages.locales):
        if folder is not None and not folder.is_dir():
            raise ValueError(f"{folder} is not a folder")
    served = {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource}
    static_prefix = f"/static/{pages.domain}"
    wanted = {(route.method, route.path) for route in pages.routes}
    if pages.static is not None:
        wanted.add(("GET", static_prefix))
    if clashes := sorted(wanted & served):
        raise ValueError("already served: " + ", ".join(f"{method} {path}" for method, path in clashes))
    loader = app[JINJA_KEY].loader
    assert isinstance(loader, jinja2.ChoiceLoader)
    prefixes = loader.loaders[1]
    assert isinstance(prefixes, jinja2.PrefixLoader)
    if pages.templates is not None:
        cast(dict[str, jinja2.BaseLoader], prefixes.mapping)[pages.domain] = jinja2.FileSystemLoader(pages.templates)
    if pages.locales is not None:
        app[CATALOG_KEY].add(pages.locales)
    navigation = app[NAVIGATION_KEY]
    # Before the core's administration links (users, audit), after everything else.
    place = next((i for i, link in enumerate(navigation) if link in NAVIGATION and link.role is Role.ADMIN), None)
    place = len(navigation) if place is None else place
    navigation[place:place] = list(pages.nav)
    routes: list[web.AbstractRouteDef] = list(pages.routes)
    if pages.static is not None:
        routes.append(web.static(static_prefix, pages.static))
    app.add_routes(routes)
