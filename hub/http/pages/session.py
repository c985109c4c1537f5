"""Pages for visitors without a session: ``/login`` and, while the hub has no user yet, ``/onboarding``.

Both post to the REST API from login.js / onboarding.js (``/api/auth/login`` with ``session: true`` sets the
session cookies); these handlers only render the forms and send people where they belong.
"""

from __future__ import annotations

from aiohttp import web

from hub.http import hub_of
from hub.http.i18n import Translator
from hub.http.pages.rendering import Rendered, anonymous_page, redirect, session_caller


def safe_next(target: str | None) -> str:
    """Only a path on this site: ``//evil.example`` or ``https://...`` would turn the login into an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@anonymous_page
async def login(request: web.Request, t: Translator) -> Rendered | web.StreamResponse:
    target = safe_next(request.query.get("next"))
    if not hub_of(request).auth.has_users:
        return redirect("/onboarding")
    if session_caller(request) is not None:
        return redirect(target)
    return Rendered("login.html", {"title": t("login.title"), "next": target})


@anonymous_page
async def onboarding(request: web.Request, t: Translator) -> Rendered | web.StreamResponse:
    if hub_of(request).auth.has_users:
        return redirect("/login")
    return Rendered("onboarding.html", {"title": t("onboarding.title")})
