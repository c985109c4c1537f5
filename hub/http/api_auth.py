"""Signing in and out, the caller's own account, onboarding, and (for tenant administrators) users, API keys
and the audit log.

Tokens: ``POST /api/auth/login`` returns an access token (a JWT, minutes) and a refresh token (rotated on each
use). With ``"session": true`` it also sets the dashboard's HttpOnly cookies. Users and keys are managed inside
the caller's tenant: admins manage operators and viewers, owners also admins and owners, and only platform
administrators make platform administrators or act for another tenant.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.scope import Forbidden, NotFound, Role, TenantScope
from hub.http import audit, hub_of, json_response, scope_of
from hub.http.errors import ApiError
from hub.http.middleware import REFRESH_COOKIE, TOKEN_KEY, clear_session_cookies, set_session_cookies
from hub.http.params import limit, timestamp
from hub.http.routing import ApiRoutes, body_of, query_of

routes = ApiRoutes("auth")

_roles = vol.In([role.value for role in Role])

LOGIN_BODY = vol.Schema(
    {
        vol.Required("username"): str,
        vol.Required("password"): str,
        vol.Optional("session", default=False, description="also set the dashboard's session cookies"): bool,
    }
)
REFRESH_BODY = vol.Schema({vol.Optional("refresh_token", description="default: the session cookie"): str})
ONBOARDING_BODY = vol.Schema(
    {
        vol.Required("username"): str,
        vol.Required("password"): str,
        vol.Optional("name"): str,
        vol.Optional("session", default=False): bool,
    }
)
NEW_USER_BODY = vol.Schema(
    {
        vol.Required("username"): str,
        vol.Required("password"): str,
        vol.Optional("name"): str,
        vol.Optional("role", default=Role.VIEWER.value): _roles,
        vol.Optional("tenant_id", description="platform administrators: the user's tenant"): vol.Any(str, None),
        vol.Optional("platform_admin", default=False): bool,
    }
)
USER_CHANGES_BODY = vol.Schema(
    {
        vol.Optional("name"): str,
        vol.Optional("role"): _roles,
        vol.Optional("disabled"): bool,
        vol.Optional("password"): str,
        vol.Optional("platform_admin"): bool,
    }
)
NEW_KEY_BODY = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("role", default=Role.VIEWER.value): _roles,
        vol.Optional("tenant_id", description="platform administrators: the key's tenant"): vol.Any(str, None),
        vol.Optional("platform_admin", default=False): bool,
    }
)
AUDIT_QUERY = vol.Schema(
    {
        vol.Optional("limit", default=100): limit(1000),
        vol.Optional("before", description="the time of the last entry of the previous page"): timestamp,
        vol.Optional("action", description="e.g. device.claim"): str,
    }
)


# ------------------------------------------------------------------------------------------------ tokens


@routes.api_route(
    "POST", "/api/auth/login", public=True, summary="Sign in with a username and password", body=LOGIN_BODY
)
async def login(request: web.Request) -> web.Response:
    """Answers a token pair; 401 for a wrong username or password, 429 (Retry-After) after too many failures."""
    body = body_of(request)
    pair = await hub_of(request).auth.login(body["username"], body["password"], address=request.remote)
    response = json_response(pair.as_dict())
    if body["session"]:
        set_session_cookies(request, response, pair)
    return response


@routes.api_route("POST", "/api/auth/refresh", public=True, summary="Renew the tokens", body=REFRESH_BODY)
async def refresh(request: web.Request) -> web.Response:
    """Trade a refresh token (from the body, or the session cookie) for a new pair; the old one is spent."""
    token = body_of(request).get("refresh_token")
    from_cookie = token is None
    if from_cookie:
        token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise ApiError(400, "invalid_data", "send refresh_token", {"refresh_token": "required"})
    pair = await hub_of(request).auth.refresh(token, address=request.remote)
    response = json_response(pair.as_dict())
    if from_cookie:
        set_session_cookies(request, response, pair)
    return response


@routes.api_route("POST", "/api/auth/logout", public=True, summary="Sign out", body=REFRESH_BODY)
async def logout(request: web.Request) -> web.Response:
    """Revoke the refresh token (from the body, or the session cookie) and clear the session cookies."""
    token = body_of(request).get("refresh_token") or request.cookies.get(REFRESH_COOKIE)
    if token:
        await hub_of(request).auth.logout(token, address=request.remote)
    response = json_response({"signed_out": True})
    clear_session_cookies(response)
    return response


@routes.api_route("GET", "/api/auth/me", summary="Who the credentials belong to")
async def me(request: web.Request) -> web.Response:
    scope = scope_of(request)
    caller = scope.caller
    hub = hub_of(request)
    user = hub.auth.user(caller.user_id) if caller.user_id is not None else None
    tenant = hub.tenants.get(caller.tenant_id) if caller.tenant_id is not None else None
    return json_response(
        {
            "user": user.as_dict() if user is not None else None,
            "name": caller.name,
            "tenant": None if tenant is None else {"id": tenant.id, "code": tenant.code, "name": tenant.name},
            "role": caller.role.value,
            "platform_admin": caller.platform_admin,
            "via": caller.via,
        }
    )


@routes.api_route("POST", "/api/auth/ws-token", summary="An access token for the WebSocket API's auth message")
async def ws_token(request: web.Request) -> web.Response:
    """The dashboard's scripts cannot read the HttpOnly session cookie: this hands them its access token."""
    scope_of(request)
    return json_response({"access_token": request[TOKEN_KEY]})


# -------------------------------------------------------------------------------------------- onboarding


@routes.api_route("GET", "/api/onboarding", public=True, summary="Whether the hub waits for its first user")
async def onboarding_status(request: web.Request) -> web.Response:
    return json_response({"onboarding": not hub_of(request).auth.has_users})


@routes.api_route(
    "POST", "/api/onboarding", public=True, summary="Create the first platform administrator", body=ONBOARDING_BODY,
    status=201,
)  # fmt: skip
async def onboard(request: web.Request) -> web.Response:
    """Only while the hub has no user at all (409 afterwards); answers the user and a token pair."""
    body = body_of(request)
    auth = hub_of(request).auth
    user = await auth.onboard(body["username"], body["password"], name=body.get("name"))
    pair = await auth.login(body["username"], body["password"], address=request.remote)
    await auth.audit.record(user.caller(), "user.create", target=user.id, address=request.remote,
                            details={"username": user.username, "onboarding": True})  # fmt: skip
    response = json_response({"user": user.as_dict(), **pair.as_dict()}, status=201)
    if body["session"]:
        set_session_cookies(request, response, pair)
    return response


# ------------------------------------------------------------------------------------------------- users


def _target_tenant(scope: TenantScope, requested: str | None) -> str | None:
    """The caller's tenant, or the one a platform administrator names (None: no tenant, platform-wide)."""
    if not scope.caller.platform_admin:
        if requested is not None and requested != scope.caller.tenant_id:
            raise NotFound("tenant", requested)
        return scope.caller.tenant_id
    if requested is not None and scope.hub.tenants.get(requested) is None:
        raise NotFound("tenant", requested)
    return requested


def _check_may_grant(scope: TenantScope, role: Role, platform_admin: bool) -> None:
    if platform_admin and not scope.caller.platform_admin:
        raise Forbidden("only platform administrators make platform administrators")
    if role.rank >= Role.ADMIN.rank:
        scope.require(Role.OWNER)


def _user(scope: TenantScope, user_id: str) -> Any:
    user = scope.hub.auth.user(user_id)
    if user is None or not scope.sees(user.tenant_id):
        raise NotFound("user", user_id)
    return user


@routes.api_route("GET", "/api/users", role=Role.ADMIN, summary="Users of the caller's tenant", tags=["users"])
async def get_users(request: web.Request) -> web.Response:
    scope = scope_of(request)
    return json_response([user.as_dict() for user in hub_of(request).auth.users(tenant_id=scope.tenant_filter)])


@routes.api_route(
    "POST", "/api/users", role=Role.ADMIN, summary="Add a user", body=NEW_USER_BODY, tags=["users"], status=201
)
async def create_user(request: web.Request) -> web.Response:
    """Admins add operators and viewers; owners also admins and owners."""
    scope = scope_of(request)
    body = body_of(request)
    role = Role(body["role"])
    _check_may_grant(scope, role, body["platform_admin"])
    tenant_id = _target_tenant(scope, body.get("tenant_id"))
    user = await hub_of(request).auth.create_user(
        body["username"],
        body["password"],
        tenant_id=tenant_id,
        role=role,
        name=body.get("name"),
        platform_admin=body["platform_admin"],
    )
    await audit(request, "user.create", target=user.id, tenant_id=tenant_id,
                details={"username": user.username, "role": role.value})  # fmt: skip
    return json_response(user.as_dict(), status=201)


@routes.api_route("GET", "/api/users/{user_id}", role=Role.ADMIN, summary="One user", tags=["users"])
async def get_user(request: web.Request) -> web.Response:
    return json_response(_user(scope_of(request), request.match_info["user_id"]).as_dict())


@routes.api_route(
    "PATCH", "/api/users/{user_id}", role=Role.ADMIN, summary="Change a user", body=USER_CHANGES_BODY, tags=["users"]
)
async def update_user(request: web.Request) -> web.Response:
    """Name, role, password, disabled; changing an admin or owner, or making one, needs the owner role."""
    scope = scope_of(request)
    user = _user(scope, request.match_info["user_id"])
    body = body_of(request)
    new_role = Role(body["role"]) if "role" in body else user.role
    _check_may_grant(scope, max(user.role, new_role, key=lambda role: role.rank), "platform_admin" in body)
    if user.platform_admin and not scope.caller.platform_admin:
        raise Forbidden("only platform administrators change platform administrators")
    changed = await hub_of(request).auth.update_user(user.id, **body)
    details = {key: value for key, value in body.items() if key != "password"} | (
        {"password": "changed"} if "password" in body else {}
    )
    await audit(request, "user.update", target=user.id, tenant_id=user.tenant_id, details=details)
    return json_response(changed.as_dict())


@routes.api_route(
    "DELETE", "/api/users/{user_id}", role=Role.ADMIN, summary="Remove a user", tags=["users"], status=204
)
async def delete_user(request: web.Request) -> web.Response:
    scope = scope_of(request)
    user = _user(scope, request.match_info["user_id"])
    _check_may_grant(scope, user.role, user.platform_admin)
    await hub_of(request).auth.delete_user(user.id)
    await audit(request, "user.delete", target=user.id, tenant_id=user.tenant_id, details={"username": user.username})
    return web.Response(status=204)


# ---------------------------------------------------------------------------------------------- API keys


@routes.api_route("GET", "/api/api_keys", role=Role.ADMIN, summary="API keys of the caller's tenant", tags=["api keys"])
async def get_api_keys(request: web.Request) -> web.Response:
    """Without their secrets: only the prefix that tells them apart."""
    scope = scope_of(request)
    return json_response([key.as_dict() for key in hub_of(request).auth.api_keys(tenant_id=scope.tenant_filter)])


@routes.api_route(
    "POST", "/api/api_keys", role=Role.ADMIN, summary="Create an API key", body=NEW_KEY_BODY, tags=["api keys"],
    status=201,
)  # fmt: skip
async def create_api_key(request: web.Request) -> web.Response:
    """The answer carries ``secret``, shown this once. A key's role is at most its creator's."""
    scope = scope_of(request)
    caller = scope.caller
    body = body_of(request)
    role = Role(body["role"])
    if body["platform_admin"] and not caller.platform_admin:
        raise Forbidden("only platform administrators make platform-wide API keys")
    if not caller.platform_admin and role.rank > caller.role.rank:
        raise Forbidden(f"an API key cannot have a higher role than yours ({caller.role})")
    tenant_id = _target_tenant(scope, body.get("tenant_id"))
    if tenant_id is None and not body["platform_admin"]:
        raise ApiError(400, "invalid_data", "name the key's tenant", {"tenant_id": "required"})
    key, secret = await hub_of(request).auth.create_api_key(
        body["name"], tenant_id=tenant_id, role=role, created_by=caller.user_id, platform_admin=body["platform_admin"]
    )
    await audit(request, "api_key.create", target=key.id, tenant_id=tenant_id,
                details={"name": key.name, "role": role.value})  # fmt: skip
    return json_response({**key.as_dict(), "secret": secret}, status=201)


@routes.api_route(
    "DELETE", "/api/api_keys/{key_id}", role=Role.ADMIN, summary="Revoke an API key", tags=["api keys"], status=204
)
async def revoke_api_key(request: web.Request) -> web.Response:
    scope = scope_of(request)
    auth = hub_of(request).auth
    key_id = request.match_info["key_id"]
    key = auth.api_key(key_id)
    if key is None or not scope.sees(key.tenant_id):
        raise NotFound("API key", key_id)
    await auth.revoke_api_key(key.id)
    await audit(request, "api_key.revoke", target=key.id, tenant_id=key.tenant_id, details={"name": key.name})
    return web.Response(status=204)


# ------------------------------------------------------------------------------------------------- audit


@routes.api_route(
    "GET", "/api/audit", role=Role.ADMIN, summary="Who did what, newest first", query=AUDIT_QUERY, tags=["audit"]
)
async def get_audit(request: web.Request) -> web.Response:
    """Page on with ``before`` = the ``time`` of the last entry you got."""
    scope = scope_of(request)
    query = query_of(request)
    entries = await hub_of(request).auth.audit.entries(
        tenant_id=scope.tenant_filter, limit=query["limit"], before=query.get("before"), action=query.get("action")
    )
    return json_response([entry.as_dict() for entry in entries])
