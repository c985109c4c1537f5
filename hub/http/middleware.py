"""Who is asking, and may they call this route: the one place where the HTTP face checks credentials and roles.

Two middlewares, around ``hub.http.errors.error_middleware``:

- ``credentials_middleware`` (outermost) turns ``Authorization: Bearer <JWT or API key>``, or the dashboard's
  session cookies, into a ``Caller`` and a ``TenantScope`` on the request (``caller_of``, ``scope_of``). An
  expired ``gh_access`` cookie with a valid ``gh_refresh`` is renewed on the spot and the new cookies go out
  with the response, whatever it is. It never refuses anything itself.
- ``access_middleware`` (innermost) enforces the route's declaration (``hub.http.routing``): public, or a
  signed-in caller (401), a same-origin ``Origin`` for cookie-authenticated writes (403), the declared role or
  platform administration (403); then it parses and validates the declared body (1 MiB at most, 413) and
  query (400 naming each field). Handlers read the results with ``body_of`` and ``query_of``.

Tenant isolation itself is ``TenantScope``'s: handlers only read through ``scope_of(request)``.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import voluptuous as vol
from aiohttp import web
from aiohttp.typedefs import Handler

from hub.auth.errors import InvalidToken
from hub.auth.scope import Caller, TenantScope
from hub.auth.tokens import TokenPair
from hub.http import CALLER_KEY, SCOPE_KEY, hub_of
from hub.http.errors import WWW_AUTHENTICATE, ApiError, json_object
from hub.http.routing import BODY_KEY, QUERY_KEY, ApiRoute, declaration_of, is_public
from hub.validation import invalid_fields

__all__ = [
    "ACCESS_COOKIE",
    "PUBLIC_RESOURCES_KEY",
    "REFRESH_COOKIE",
    "TOKEN_KEY",
    "access_middleware",
    "clear_session_cookies",
    "credentials_middleware",
    "set_session_cookies",
]

ACCESS_COOKIE = "gh_access"
REFRESH_COOKIE = "gh_refresh"
REFRESH_COOKIE_MAX_AGE = 30 * 86400
#: Concurrent requests of one page may all find the access cookie expired: the first renews it, the others reuse
#: that renewal instead of presenting a refresh token that was just rotated (which would look like theft).
RENEWAL_GRACE = 30.0
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: The raw bearer or access-cookie token that authenticated the request (``/api/auth/ws-token`` hands it on).
TOKEN_KEY = web.RequestKey("token", str)
_AUTH_ERROR_KEY = web.RequestKey("auth_error", str)
_RENEWED_KEY = web.RequestKey("renewed_session", TokenPair)
#: Resources that need no credentials although they are not declared routes (the WebSocket endpoint, which
#: authenticates in its own protocol; the docs page's static files).
PUBLIC_RESOURCES_KEY = web.AppKey("public_resources", set[web.AbstractResource])
_RENEWALS_KEY = web.AppKey("session_renewals", dict[str, tuple[float, TokenPair]])


# ------------------------------------------------------------------------------------------- credentials


@web.middleware
async def credentials_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the caller when the request carries valid credentials; send renewed session cookies back."""
    hub = hub_of(request)
    auth = getattr(hub, "auth", None)
    if auth is not None:
        caller = await _caller(request, auth)
        if caller is not None:
            request[CALLER_KEY] = caller
            request[SCOPE_KEY] = TenantScope(hub, caller)
    renewed = request.get(_RENEWED_KEY)
    if renewed is None:
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as error:  # redirects pass through here; they must carry the new cookies too
        set_session_cookies(request, error, renewed)
        raise
    set_session_cookies(request, response, renewed)
    return response


async def _caller(request: web.Request, auth: Any) -> Caller | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            request[_AUTH_ERROR_KEY] = "the Authorization header must be 'Bearer <token or API key>'"
            return None
        try:
            caller: Caller = auth.authenticate(token)
        except InvalidToken as error:
            request[_AUTH_ERROR_KEY] = str(error)
            return None
        request[TOKEN_KEY] = token
        return caller
    access = request.cookies.get(ACCESS_COOKIE)
    refresh = request.cookies.get(REFRESH_COOKIE)
    if access:
        try:
            caller = auth.authenticate(access)
        except InvalidToken:
            pass
        else:
            request[TOKEN_KEY] = access
            return dataclasses.replace(caller, via="session")
    if not refresh:
        if access:
            request[_AUTH_ERROR_KEY] = "the session expired: sign in again"
        return None
    try:
        pair = await _renew(request, auth, refresh)
        caller = auth.authenticate(pair.access_token)
    except InvalidToken:
        request[_AUTH_ERROR_KEY] = "the session expired: sign in again"
        return None
    request[_RENEWED_KEY] = pair
    request[TOKEN_KEY] = pair.access_token
    return dataclasses.replace(caller, via="session")


def setup(app: web.Application) -> None:
    """The application state the middlewares keep (made before the app starts: it is frozen afterwards)."""
    app[PUBLIC_RESOURCES_KEY] = set()
    app[_RENEWALS_KEY] = {}


async def _renew(request: web.Request, auth: Any, refresh_token: str) -> TokenPair:
    renewals = request.app[_RENEWALS_KEY]
    now = time.monotonic()
    for token, (at, _) in list(renewals.items()):
        if now - at > RENEWAL_GRACE:
            del renewals[token]
    if (recent := renewals.get(refresh_token)) is not None:
        return recent[1]
    pair: TokenPair = await auth.refresh(refresh_token, address=request.remote)
    renewals[refresh_token] = (now, pair)
    return pair


def set_session_cookies(request: web.Request, response: web.StreamResponse, pair: TokenPair) -> None:
    """The dashboard's session: HttpOnly, SameSite=Strict cookies (Secure when served over HTTPS)."""
    secure = request.secure
    response.set_cookie(
        ACCESS_COOKIE,
        pair.access_token,
        max_age=REFRESH_COOKIE_MAX_AGE,  # kept past its expiry so the middleware can tell "expired" from "none"
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=REFRESH_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/",
    )


def clear_session_cookies(response: web.StreamResponse) -> None:
    response.del_cookie(ACCESS_COOKIE, path="/")
    response.del_cookie(REFRESH_COOKIE, path="/")


# ------------------------------------------------------------------------------------------------ access


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Enforce the matched route's declaration, then validate its declared body and query."""
    if request.match_info.http_exception is not None:  # no such route (404) or method (405): say so
        return await handler(request)
    declaration = declaration_of(request)
    if declaration is None:
        if request.path.startswith("/api/") and not _public_undeclared(request):
            _require_caller(request)
            _check_origin(request)
        return await handler(request)
    if not declaration.public:
        caller = _require_caller(request)
        _check_origin(request)
        _check_role(declaration, caller)
    if declaration.body is not None or declaration.query is not None:
        request = request.clone(client_max_size=declaration.max_body)
        if declaration.body is not None:
            request[BODY_KEY] = _validated(declaration.body, await json_object(request), "invalid_data")
        if declaration.query is not None:
            request[QUERY_KEY] = _validated(declaration.query, dict(request.query), "invalid_query")
    return await handler(request)


def _public_undeclared(request: web.Request) -> bool:
    route = request.match_info.route
    public_resources = request.app.get(PUBLIC_RESOURCES_KEY, set())
    return route.resource in public_resources or is_public(request.match_info.handler)


def _require_caller(request: web.Request) -> Caller:
    caller = request.get(CALLER_KEY)
    if caller is None:
        reason = request.get(_AUTH_ERROR_KEY)
        if reason is not None:
            raise ApiError(401, "invalid_token", reason, headers=WWW_AUTHENTICATE)
        raise ApiError(
            401,
            "unauthorized",
            "sign in first: send 'Authorization: Bearer <token or API key>'",
            headers=WWW_AUTHENTICATE,
        )
    return caller


def _check_origin(request: web.Request) -> None:
    """A page on another site cannot make the browser write with our cookies: SameSite=Strict, and this."""
    caller = request[CALLER_KEY]
    if caller.via != "session" or request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("Origin")
    if origin is None or origin != f"{request.scheme}://{request.host}":
        raise ApiError(403, "cross_origin", "cookie-authenticated writes must come from the hub's own pages")


def _check_role(declaration: ApiRoute, caller: Caller) -> None:
    if declaration.platform_admin:
        if not caller.platform_admin:
            raise ApiError(403, "forbidden", "this is for platform administrators only")
        return
    if not caller.at_least(declaration.role):
        raise ApiError(403, "forbidden", f"this needs the {declaration.role} role or higher")


def _validated(schema: vol.Schema, value: dict[str, Any], code: str) -> dict[str, Any]:
    try:
        return dict(schema(value))
    except vol.Invalid as error:
        fields = invalid_fields(error)
        details = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        what = "query" if code == "invalid_query" else "data"
        raise ApiError(400, code, f"invalid {what}: {details}", fields) from None
