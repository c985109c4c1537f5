"""What every dashboard page shares: the jinja2 environment, the translator, the session check and error pages.

A page handler is ``async def handler(request, page) -> Rendered`` wrapped by ``@page_handler(...)``: the wrapper
sends a visitor without a session to ``/login?next=...``, turns ``NotFound`` (another tenant's device, an absent
one) into the HTML 404 page and ``Forbidden`` into the 403 page, and renders the template with the context every
page needs (user, role flags, navigation, the translator and the strings the page's scripts use).
Handlers read the hub only through ``page.scope`` (a ``TenantScope``): never filter by tenant here.
"""

from __future__ import annotations

import functools
import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jinja2
from aiohttp import web

from hub.auth.scope import Caller, Forbidden, NotFound, Role, TenantScope
from hub.core import Hub
from hub.http import caller_of, hub_of, scope_of
from hub.http.i18n import LANG_COOKIE, LANGUAGES, Catalog, Translator

JINJA_KEY = web.AppKey("jinja", jinja2.Environment)
CATALOG_KEY = web.AppKey("i18n_catalog", Catalog)


class NavLink(NamedTuple):
    """One header link: path, translation key of its label, least role that sees it (higher pages are unlinked)."""

    href: str
    label: str
    role: Role = Role.VIEWER


#: The core's header navigation; integrations' links (the ``dashboard_pages`` hook) go before users and audit.
NAVIGATION: tuple[NavLink, ...] = (
    NavLink("/", "nav.overview"),
    NavLink("/events", "nav.events"),
    NavLink("/cameras", "nav.cameras"),
    NavLink("/health", "nav.health"),
    NavLink("/automations", "nav.automations"),
    NavLink("/integrations", "nav.integrations"),
    NavLink("/users", "nav.users", Role.ADMIN),
    NavLink("/audit", "nav.audit", Role.ADMIN),
)
#: The navigation this application shows: the core's, plus the links integrations added.
NAVIGATION_KEY = web.AppKey("navigation", list[NavLink])
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(slots=True)
class Rendered:
    """What a handler returns: a template, its own context, and optionally a status (404 pages)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(slots=True)
class Page:
    """The request as a page sees it: who asks, through which scope, in which language."""

    request: web.Request
    caller: Caller
    scope: TenantScope
    t: Translator

    @property
    def hub(self) -> Hub:
        return hub_of(self.request)

    def can(self, role: Role) -> bool:
        return self.caller.at_least(role)


PageHandler = Callable[[web.Request, Page], Awaitable[Rendered | web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def session_caller(request: web.Request) -> Caller | None:
    """The caller the authentication middleware found (session cookies), or None for an anonymous visitor."""
    try:
        return caller_of(request)
    except (KeyError, LookupError):
        return None


def translator(request: web.Request) -> Translator:
    return request.app[CATALOG_KEY].for_request(request)


def redirect(location: str) -> web.Response:
    """A 302 as a response (not an exception), so cookies can be set on it."""
    return web.Response(status=302, headers={"Location": location, **NO_STORE})


def login_redirect(request: web.Request) -> web.Response:
    target = request.path_qs
    query = "" if target in ("", "/") else "?" + urllib.parse.urlencode({"next": target})
    return redirect("/login" + query)


def page_handler(*, role: Role = Role.VIEWER, nav: str | None = None) -> Callable[[PageHandler], Handler]:
    """Wrap a page: session required, ``role`` at least (403 page otherwise), hub errors as HTML pages."""

    def decorate(handler: PageHandler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            if (switched := switch_language(request)) is not None:
                return switched
            caller = session_caller(request)
            if caller is None:
                return login_redirect(request)
            page = Page(request, caller, scope_of(request), translator(request))
            try:
                if not caller.at_least(role):
                    raise Forbidden(f"this page needs the {role} role")
                result = await handler(request, page)
            except NotFound:
                result = Rendered("error.html", {"code": 404, "title": page.t("error.not_found.title"),
                                                 "message": page.t("error.not_found.message")}, 404)  # fmt: skip
            except Forbidden:
                result = Rendered("error.html", {"code": 403, "title": page.t("error.forbidden.title"),
                                                 "message": page.t("error.forbidden.message")}, 403)  # fmt: skip
            if isinstance(result, web.StreamResponse):
                return result
            return render(request, result, page.t, caller=caller, nav=nav)

        return wrapper

    return decorate


def switch_language(request: web.Request) -> web.StreamResponse | None:
    """``?lang=fr`` on any page: remember it in the ``lang`` cookie and come back without the parameter.

    The header's switcher is made of such links, so changing language works without JavaScript.
    """
    language = request.query.get("lang")
    if language is None:
        return None
    query = {key: value for key, value in request.query.items() if key != "lang"}
    target = request.path + ("?" + urllib.parse.urlencode(query) if query else "")
    response = redirect(target)
    if language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, path="/", samesite="Lax")
    return response


def render(
    request: web.Request, rendered: Rendered, t: Translator, *, caller: Caller | None, nav: str | None
) -> web.Response:
    """The template with the context every page shares (user, role flags, navigation, the strings for scripts)."""
    hub = hub_of(request)
    tenant = hub.tenants.get(caller.tenant_id) if caller is not None and caller.tenant_id else None
    user = hub.auth.user(caller.user_id) if caller is not None and caller.user_id else None
    context: dict[str, Any] = {
        "t": t,
        "lang": t.language,
        "languages": LANGUAGES,
        "hub_name": (hub.config.get("gatehouse") or {}).get("name") or "Gatehouse",
        "caller": caller,
        "display_name": (user.name if user is not None else None) or (caller.name if caller is not None else ""),
        "tenant": tenant,
        "can_operate": caller is not None and caller.at_least(Role.OPERATOR),
        "can_admin": caller is not None and caller.at_least(Role.ADMIN),
        "navigation": [
            {"href": href, "label": t(key), "current": href == nav}
            for href, key, minimum in request.app.get(NAVIGATION_KEY, NAVIGATION)
            if caller is not None and caller.at_least(minimum)
        ],
        "strings_json": json.dumps(t.strings, ensure_ascii=False),
        "path": request.path,
        "now": time.time(),
        **rendered.context,
    }
    html = request.app[JINJA_KEY].get_template(rendered.template).render(context)
    return web.Response(text=html, status=rendered.status, content_type="text/html", headers=NO_STORE)


def anonymous_page(
    handler: Callable[[web.Request, Translator], Awaitable[Rendered | web.StreamResponse]],
) -> Handler:
    """Pages for visitors without a session (login, onboarding): translated, no navigation."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        if (switched := switch_language(request)) is not None:
            return switched
        t = translator(request)
        result = await handler(request, t)
        if isinstance(result, web.StreamResponse):
            return result
        return render(request, result, t, caller=None, nav=None)

    return wrapper
