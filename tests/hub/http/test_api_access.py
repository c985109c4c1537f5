"""What every API route has in common: credentials (bearer token, API key, session cookies), roles from the
route's declaration, CSRF for cookie writes, one error shape, body limits and validation naming fields."""

from __future__ import annotations

import re

import aiohttp
import pytest
from yarl import URL

from hub.auth.scope import Role
from hub.core import Hub
from hub.http.routing import declarations_of
from hub.testing.http import ApiClient, UserFactory, assert_error


async def test_every_non_public_route_is_401_without_credentials(http_hub: Hub, anonymous_api: ApiClient) -> None:
    declarations = declarations_of(http_hub.http.app)
    assert len(declarations) > 30
    for declaration in declarations:
        if declaration.public:
            continue
        path = re.sub(r"\{\w+\}", "x", declaration.path)
        async with anonymous_api.session.request(declaration.method, anonymous_api.base_url + path) as response:
            assert response.status == 401, (declaration.method, path)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert_error(await response.json(), "unauthorized", {})


async def test_public_routes_answer_without_credentials(anonymous_api: ApiClient) -> None:
    for path in ("/api/", "/api/openapi.json", "/api/docs", "/api/onboarding"):
        status, _ = await anonymous_api.get(path)
        assert status == 200, path


async def test_a_forged_token_is_401_naming_the_problem(anonymous_api: ApiClient) -> None:
    status, body = await anonymous_api.with_token("not.a.jwt").get("/api/states")
    assert status == 401
    assert_error(body, "invalid_token")

    status, body = await anonymous_api.get("/api/states", headers={"Authorization": "Basic YWxhZGRpbjpvcGVu"})
    assert status == 401
    assert_error(body, "invalid_token")


async def test_an_api_key_authenticates_like_a_token(http_hub: Hub, anonymous_api: ApiClient) -> None:
    school = await http_hub.tenants.create("school")
    http_hub.states.set("lock.gate", "locked", tenant_id=school.id)
    key, secret = await http_hub.auth.create_api_key("script", tenant_id=school.id, role=Role.VIEWER, created_by=None)

    status, body = await anonymous_api.with_token(secret).get("/api/states")
    assert status == 200
    assert [state["entity_id"] for state in body] == ["lock.gate"]

    await http_hub.auth.revoke_api_key(key.id)
    status, body = await anonymous_api.with_token(secret).get("/api/states")
    assert status == 401


async def test_the_declared_role_is_enforced_with_403(http_hub: Hub, make_user: UserFactory) -> None:
    school = await http_hub.tenants.create("school")
    viewer = await make_user(http_hub, school, Role.VIEWER)
    operator = await make_user(http_hub, school, Role.OPERATOR)

    status, body = await viewer.api.post("/api/services/demo/nothing")
    assert status == 403
    assert_error(body, "forbidden", {})
    assert "operator" in body["error"]["message"]

    status, body = await operator.api.post("/api/devices/claim", json={"manufacturer": "Acme", "serial_number": "1"})
    assert status == 403
    status, _ = await operator.api.get("/metrics")
    assert status == 403


async def test_unknown_routes_and_methods_answer_json(admin_api: ApiClient, anonymous_api: ApiClient) -> None:
    for client in (admin_api, anonymous_api):
        status, body = await client.get("/api/no/such/thing")
        assert status == 404
        assert_error(body, "not_found", {})
    status, body = await admin_api.delete("/api/states")
    assert status == 405
    assert_error(body, "method_not_allowed")


async def test_an_oversized_body_is_413(admin_api: ApiClient) -> None:
    payload = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    status, body = await admin_api.request(
        "PATCH", "/api/devices/anything", data=payload, headers={"Content-Type": "application/json"}
    )
    assert status == 413
    assert_error(body, "payload_too_large")


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b"\xff\xfe"])
async def test_malformed_json_is_400_naming_the_root(admin_api: ApiClient, payload: bytes) -> None:
    status, body = await admin_api.request(
        "POST", "/api/devices/claim", data=payload, headers={"Content-Type": "application/json"}
    )
    assert status == 400
    assert_error(body, "invalid_json")
    assert set(body["error"]["fields"]) == {"<root>"}


async def test_wrong_types_are_400_naming_each_field(admin_api: ApiClient) -> None:
    status, body = await admin_api.post(
        "/api/devices/claim", json={"manufacturer": 7, "serial_number": ["x"], "colour": "red"}
    )
    assert status == 400
    assert_error(body, "invalid_data")
    assert set(body["error"]["fields"]) == {"manufacturer", "serial_number", "colour"}
    assert body["error"]["fields"]["colour"] == "unknown key"


# ----------------------------------------------------------------------------------------- session cookies


async def _session(http_hub: Hub, username: str, password: str) -> aiohttp.ClientSession:
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with browser.post(
        http_hub.http.url + "/api/auth/login", json={"username": username, "password": password, "session": True}
    ) as response:
        assert response.status == 200
        cookie = response.cookies["gh_refresh"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    return browser


async def test_session_cookies_authenticate_and_writes_need_the_same_origin(
    http_hub: Hub, make_user: UserFactory
) -> None:
    school = await http_hub.tenants.create("school")
    officer = await make_user(http_hub, school, Role.ADMIN)
    url = http_hub.http.url
    async with await _session(http_hub, officer.user.username, officer.password) as browser:
        async with browser.get(url + "/api/auth/me") as response:
            assert response.status == 200
            assert (await response.json())["via"] == "session"
        claim = {"manufacturer": "Acme", "serial_number": "SN-1"}
        async with browser.post(url + "/api/devices/claim", json=claim) as response:
            assert response.status == 403
            assert_error(await response.json(), "cross_origin")
        async with browser.post(
            url + "/api/devices/claim", json=claim, headers={"Origin": "http://evil.example"}
        ) as response:
            assert response.status == 403
        async with browser.post(url + "/api/devices/claim", json=claim, headers={"Origin": url}) as response:
            assert response.status == 201
        async with browser.post(url + "/api/auth/ws-token", headers={"Origin": url}) as response:
            token = (await response.json())["access_token"]
        assert http_hub.auth.authenticate(token).user_id == officer.id


async def test_an_expired_access_cookie_is_renewed_with_the_refresh_cookie(
    http_hub: Hub, make_user: UserFactory
) -> None:
    school = await http_hub.tenants.create("school")
    officer = await make_user(http_hub, school, Role.VIEWER)
    url = http_hub.http.url
    async with await _session(http_hub, officer.user.username, officer.password) as browser:
        browser.cookie_jar.update_cookies({"gh_access": "expired.or.forged"}, response_url=URL(url))
        async with browser.get(url + "/api/auth/me") as response:
            assert response.status == 200
            renewed = response.cookies["gh_access"].value
        assert renewed != "expired.or.forged"
        assert http_hub.auth.authenticate(renewed).user_id == officer.id
        async with browser.post(url + "/api/auth/logout", headers={"Origin": url}) as response:
            assert response.status == 200
        browser.cookie_jar.update_cookies({"gh_access": "expired.or.forged"}, response_url=URL(url))
        async with browser.get(url + "/api/auth/me") as response:
            assert response.status == 401
