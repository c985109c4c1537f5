"""Fixtures for testing through the hub's real HTTP server: a started hub with a platform administrator, users
of any role in any tenant, and a small JSON client that signs its requests.

    async def test_turnstile_route(http_hub, make_user, tenant_factory):
        school = await http_hub.tenants.create("school")
        officer = await make_user(http_hub, school, Role.ADMIN)
        status, body = await officer.api.get("/api/devices")
        assert status == 200

Fixtures: ``http_hub`` (HTTP on a free loopback port, a platform administrator ``admin``/``ADMIN_PASSWORD``),
``admin_api`` (an ``ApiClient`` signed in as that administrator), ``anonymous_api`` (no credentials) and
``make_user`` (an async factory: a user with a role in a tenant, signed in, with their own ``ApiClient``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import pytest

from hub.auth.scope import Role
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory

__all__ = ["ADMIN_PASSWORD", "ADMIN_USERNAME", "ApiClient", "SignedInUser", "UserFactory", "assert_error", "sign_in"]

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "correct horse battery staple"
USER_PASSWORD = "a long enough password"


class ApiClient:
    """JSON requests to one hub, with ``Authorization: Bearer <token>`` when a token is set.

    Each helper returns ``(status, body)``: the parsed JSON, the text when it is not JSON, None when empty.
    """

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str | None = None) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token

    def with_token(self, token: str | None) -> ApiClient:
        """The same client acting with other credentials (an API key, another user's token)."""
        return ApiClient(self.session, self.base_url, token)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def request(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, self.base_url + path, headers={**self.headers, **(headers or {})}, **kwargs
        ) as response:
            text = await response.text()
            if not text:
                return response.status, None
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, text

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("POST", path, json=json, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("PATCH", path, json=json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.request("DELETE", path, **kwargs)


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """A user made for a test, its password, its tokens, and a client that uses its access token."""

    user: Any  # hub.auth.users.User
    password: str
    access_token: str
    refresh_token: str
    api: ApiClient

    @property
    def id(self) -> str:
        return str(self.user.id)


class UserFactory(Protocol):
    def __call__(
        self,
        hub: Hub,
        tenant: Tenant | None,
        role: Role = Role.VIEWER,
        *,
        platform_admin: bool = False,
        username: str | None = None,
    ) -> Awaitable[SignedInUser]: ...


_numbers = itertools.count(1)


async def sign_in(hub: Hub, session: aiohttp.ClientSession, username: str, password: str) -> SignedInUser:
    """Sign in through the hub itself (not over HTTP: that is what the auth tests check) and wrap the tokens."""
    pair = await hub.auth.login(username, password, address="127.0.0.1")
    user = hub.auth.user_by_username(username)
    return SignedInUser(
        user, password, pair.access_token, pair.refresh_token, ApiClient(session, hub.http.url, pair.access_token)
    )


@pytest.fixture
async def api_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def http_hub(hub_factory: HubFactory) -> Hub:
    """A started hub serving HTTP on 127.0.0.1, with a platform administrator (``ADMIN_USERNAME``)."""
    hub = await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}})
    await hub.auth.onboard(ADMIN_USERNAME, ADMIN_PASSWORD, name="Platform administrator")
    return hub


@pytest.fixture
async def admin_api(http_hub: Hub, api_session: aiohttp.ClientSession) -> ApiClient:
    """An ``ApiClient`` signed in as ``http_hub``'s platform administrator."""
    return (await sign_in(http_hub, api_session, ADMIN_USERNAME, ADMIN_PASSWORD)).api


@pytest.fixture
def anonymous_api(http_hub: Hub, api_session: aiohttp.ClientSession) -> ApiClient:
    """An ``ApiClient`` without credentials."""
    return ApiClient(api_session, http_hub.http.url)


@pytest.fixture
def make_user(api_session: aiohttp.ClientSession) -> UserFactory:
    """``await make_user(hub, tenant, Role.OPERATOR)``: a new user of that tenant and role, signed in."""

    async def make(
        hub: Hub,
        tenant: Tenant | None,
        role: Role = Role.VIEWER,
        *,
        platform_admin: bool = False,
        username: str | None = None,
    ) -> SignedInUser:
        name = username or f"{tenant.code if tenant else 'platform'}-{role.value}-{next(_numbers)}"
        await hub.auth.create_user(
            name, USER_PASSWORD, tenant_id=tenant.id if tenant else None, role=role, platform_admin=platform_admin
        )
        return await sign_in(hub, api_session, name, USER_PASSWORD)

    return make


def assert_error(body: Any, code: str, fields: Mapping[str, str] | None = None) -> None:
    """``body`` is the API's one error shape with this ``code`` (and exactly these ``fields``, when given)."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    if fields is not None:
        assert body["error"]["fields"] == dict(fields), body
