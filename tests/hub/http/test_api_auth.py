"""Signing in, tokens, onboarding, users, API keys and the audit log over REST."""

from __future__ import annotations

import pytest

from hub.auth.scope import Role
from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory
from hub.testing.http import ADMIN_PASSWORD, ADMIN_USERNAME, ApiClient, UserFactory, assert_error


@pytest.fixture
async def school(http_hub: Hub) -> Tenant:
    return await http_hub.tenants.create("school", "Lakeside School")


async def test_onboarding_creates_the_first_platform_administrator_once(
    hub_factory: HubFactory, api_session: object
) -> None:
    hub = await hub_factory(http=True)
    api = ApiClient(api_session, hub.http.url)  # type: ignore[arg-type]
    assert await api.get("/api/onboarding") == (200, {"onboarding": True})

    status, body = await api.post("/api/onboarding", json={"username": "root", "password": "a long password"})
    assert status == 201
    assert body["user"]["platform_admin"] is True
    status, me = await api.with_token(body["access_token"]).get("/api/auth/me")
    assert (status, me["platform_admin"], me["role"]) == (200, True, "owner")

    status, again = await api.post("/api/onboarding", json={"username": "other", "password": "a long password"})
    assert status == 409
    assert_error(again, "conflict")


async def test_login_refresh_logout(http_hub: Hub, anonymous_api: ApiClient) -> None:
    status, pair = await anonymous_api.post(
        "/api/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert status == 200
    assert set(pair) == {"access_token", "refresh_token", "expires_in", "token_type"}

    status, renewed = await anonymous_api.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert status == 200
    assert renewed["refresh_token"] != pair["refresh_token"]

    assert (await anonymous_api.post("/api/auth/logout", json={"refresh_token": renewed["refresh_token"]}))[0] == 200
    status, body = await anonymous_api.post("/api/auth/refresh", json={"refresh_token": renewed["refresh_token"]})
    assert status == 401
    assert_error(body, "invalid_token")


async def test_a_wrong_password_is_401_and_repeated_failures_429(anonymous_api: ApiClient) -> None:
    status, body = await anonymous_api.post("/api/auth/login", json={"username": ADMIN_USERNAME, "password": "no"})
    assert status == 401
    assert_error(body, "invalid_credentials")
    for _ in range(30):
        status, body = await anonymous_api.post("/api/auth/login", json={"username": ADMIN_USERNAME, "password": "no"})
        if status == 429:
            break
    assert status == 429
    assert_error(body, "rate_limited")


async def test_me_names_the_user_and_tenant(http_hub: Hub, school: Tenant, make_user: UserFactory) -> None:
    officer = await make_user(http_hub, school, Role.OPERATOR)
    status, body = await officer.api.get("/api/auth/me")
    assert status == 200
    assert body["user"]["username"] == officer.user.username
    assert body["tenant"] == {"id": school.id, "code": "school", "name": "Lakeside School"}
    assert (body["role"], body["platform_admin"], body["via"]) == ("operator", False, "token")


async def test_admins_manage_operators_and_viewers_owners_also_admins(
    http_hub: Hub, school: Tenant, make_user: UserFactory
) -> None:
    admin = await make_user(http_hub, school, Role.ADMIN)
    owner = await make_user(http_hub, school, Role.OWNER)

    status, guard = await admin.api.post(
        "/api/users", json={"username": "guard", "password": "a long password", "role": "operator"}
    )
    assert status == 201
    assert (guard["tenant_id"], guard["role"]) == (school.id, "operator")
    status, _ = await admin.api.post(
        "/api/users", json={"username": "boss", "password": "a long password", "role": "admin"}
    )
    assert status == 403
    status, _ = await owner.api.post(
        "/api/users", json={"username": "boss", "password": "a long password", "role": "admin"}
    )
    assert status == 201

    status, changed = await admin.api.patch(f"/api/users/{guard['id']}", json={"name": "Night guard", "disabled": True})
    assert (status, changed["name"], changed["disabled"]) == (200, "Night guard", True)
    status, _ = await admin.api.patch(f"/api/users/{guard['id']}", json={"role": "owner"})
    assert status == 403
    status, body = await admin.api.patch(f"/api/users/{guard['id']}", json={"role": "emperor"})
    assert status == 400
    assert set(body["error"]["fields"]) == {"role"}

    _, users = await admin.api.get("/api/users")
    assert {user["username"] for user in users} == {admin.user.username, owner.user.username, "guard", "boss"}
    assert (await admin.api.delete(f"/api/users/{guard['id']}"))[0] == 204
    assert (await admin.api.get(f"/api/users/{guard['id']}"))[0] == 404

    _, log = await admin.api.get("/api/audit?action=user.create")
    assert {entry["details"]["username"] for entry in log} == {"guard", "boss"}


async def test_api_keys_are_created_listed_and_revoked(http_hub: Hub, school: Tenant, make_user: UserFactory) -> None:
    admin = await make_user(http_hub, school, Role.ADMIN)

    status, key = await admin.api.post("/api/api_keys", json={"name": "door script", "role": "operator"})
    assert status == 201
    assert key["secret"].startswith(key["prefix"])
    status, _ = await admin.api.post("/api/api_keys", json={"name": "too strong", "role": "owner"})
    assert status == 403

    _, keys = await admin.api.get("/api/api_keys")
    assert [(item["name"], "secret" in item) for item in keys] == [("door script", False)]
    status, me = await admin.api.with_token(key["secret"]).get("/api/auth/me")
    assert (status, me["via"], me["role"]) == (200, "api_key", "operator")

    assert (await admin.api.delete(f"/api/api_keys/{key['id']}"))[0] == 204
    assert (await admin.api.with_token(key["secret"]).get("/api/auth/me"))[0] == 401
    _, log = await admin.api.get("/api/audit")
    assert [entry["action"] for entry in log][:2] == ["api_key.revoke", "api_key.create"]


async def test_the_audit_log_is_for_admins(http_hub: Hub, school: Tenant, make_user: UserFactory) -> None:
    operator = await make_user(http_hub, school, Role.OPERATOR)
    status, _ = await operator.api.get("/api/audit")
    assert status == 403
