"""Access tokens, refresh tokens and the signing secret: what is accepted, what is refused, and for how long."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import jwt
import pytest
from sqlalchemy import select

from hub.auth import InvalidToken, Role
from hub.auth.tokens import digest
from hub.core import Hub
from hub.store.models import RefreshTokenRow, SettingRow
from hub.tenants import Tenant
from hub.testing import HubFactory

from .conftest import PASSWORD


@pytest.fixture
async def alice(auth_hub: Hub, acme: Tenant) -> str:
    return (await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id, role=Role.OPERATOR)).id


async def test_an_access_token_names_its_user_tenant_and_role_and_expires_in_15_minutes(
    auth_hub: Hub, acme: Tenant, alice: str
) -> None:
    pair = await auth_hub.auth.login("alice", PASSWORD)

    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    assert jwt.get_unverified_header(pair.access_token)["alg"] == "HS256"
    assert {key: claims[key] for key in ("sub", "tid", "role", "pa", "iss")} == {
        "sub": alice,
        "tid": acme.id,
        "role": "operator",
        "pa": False,
        "iss": "gatehouse",
    }
    assert claims["exp"] - claims["iat"] == 15 * 60 == pair.expires_in
    assert claims["jti"]
    assert pair.as_dict() == {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "expires_in": 900,
        "token_type": "Bearer",
    }


async def test_an_expired_access_token_is_refused(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config={"auth": {"access_token_minutes": 0.02}})  # 1.2 s
    tenant = await hub.tenants.create("acme")
    await hub.auth.create_user("alice", PASSWORD, tenant_id=tenant.id)
    pair = await hub.auth.login("alice", PASSWORD)
    assert hub.auth.authenticate(pair.access_token).name == "alice"

    await asyncio.sleep(2.2)

    with pytest.raises(InvalidToken, match="expired"):
        hub.auth.authenticate(pair.access_token)
    assert hub.auth.authenticate((await hub.auth.refresh(pair.refresh_token)).access_token).name == "alice"


async def test_a_token_signed_with_another_secret_is_refused(auth_hub: Hub, alice: str, acme: Tenant) -> None:
    claims = {"sub": alice, "tid": acme.id, "role": "owner", "pa": True, "iss": "gatehouse", "jti": "x"}
    now = int(time.time())
    forged = jwt.encode({**claims, "iat": now, "exp": now + 600}, "not the hub's secret" * 4, algorithm="HS256")

    with pytest.raises(InvalidToken):
        auth_hub.auth.authenticate(forged)


async def test_a_token_whose_claims_were_altered_is_refused(auth_hub: Hub, alice: str) -> None:
    header, payload, signature = (await auth_hub.auth.login("alice", PASSWORD)).access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 86400
    altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(InvalidToken):
        auth_hub.auth.authenticate(f"{header}.{altered}.{signature}")


async def test_unsigned_and_malformed_tokens_are_refused(auth_hub: Hub, alice: str) -> None:
    now = int(time.time())
    claims = {"sub": alice, "iss": "gatehouse", "jti": "x", "iat": now, "exp": now + 600}
    unsigned = jwt.encode(claims, None, algorithm="none")

    for token in (unsigned, "", "garbage", "a.b.c", "gh_not-a-key"):
        with pytest.raises(InvalidToken):
            auth_hub.auth.authenticate(token)


async def test_the_signing_secret_is_made_once_and_shared_by_every_node(
    database_url: str, hub_factory: HubFactory, auth_hub: Hub, alice: str
) -> None:
    pair = await auth_hub.auth.login("alice", PASSWORD)

    second = await hub_factory(database_url=database_url)  # another node on the same database, or a restart

    assert second.auth.authenticate(pair.access_token).user_id == alice
    async with second.database.session() as session:
        secrets = (await session.scalars(select(SettingRow.value).where(SettingRow.key == "jwt_secret"))).all()
    assert len(secrets) == 1 and len(bytes.fromhex(secrets[0])) == 64
    await auth_hub.stop()
    third = await hub_factory(database_url=database_url)
    assert third.auth.authenticate(pair.access_token).user_id == alice


async def test_refresh_tokens_are_stored_only_as_hashes(auth_hub: Hub, alice: str) -> None:
    pair = await auth_hub.auth.login("alice", PASSWORD, address="192.0.2.7")

    async with auth_hub.database.session() as session:
        row = await session.scalar(select(RefreshTokenRow).where(RefreshTokenRow.user_id == alice))
    assert row is not None
    assert row.token_hash == digest(pair.refresh_token) != pair.refresh_token
    assert row.last_address == "192.0.2.7"
    assert row.expires_at - row.created_at == pytest.approx(30 * 86400)


async def test_refreshing_rotates_the_refresh_token(auth_hub: Hub, alice: str) -> None:
    first = await auth_hub.auth.login("alice", PASSWORD)

    second = await auth_hub.auth.refresh(first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert auth_hub.auth.authenticate(second.access_token).user_id == alice
    third = await auth_hub.auth.refresh(second.refresh_token)
    assert auth_hub.auth.authenticate(third.access_token).user_id == alice


async def test_a_reused_refresh_token_ends_every_session_of_its_user(auth_hub: Hub, alice: str) -> None:
    auth_hub.auth.reuse_grace = 0  # no allowance for two tabs refreshing at once: any reuse is theft
    laptop = await auth_hub.auth.login("alice", PASSWORD)
    phone = await auth_hub.auth.login("alice", PASSWORD)
    rotated = await auth_hub.auth.refresh(laptop.refresh_token)  # by the thief, say

    with pytest.raises(InvalidToken, match="already used"):
        await auth_hub.auth.refresh(laptop.refresh_token)  # the rightful owner comes back with the old one

    for token in (rotated.refresh_token, phone.refresh_token):
        with pytest.raises(InvalidToken):
            await auth_hub.auth.refresh(token)
    assert [entry.action for entry in await auth_hub.auth.audit.entries(action="refresh_reuse")] == ["refresh_reuse"]


async def test_two_tabs_refreshing_with_one_token_at_once_are_not_taken_for_theft(auth_hub: Hub, alice: str) -> None:
    pair = await auth_hub.auth.login("alice", PASSWORD)

    first, second = await asyncio.gather(
        auth_hub.auth.refresh(pair.refresh_token), auth_hub.auth.refresh(pair.refresh_token)
    )

    assert first.refresh_token != second.refresh_token
    assert await auth_hub.auth.refresh(first.refresh_token)
    assert await auth_hub.auth.refresh(second.refresh_token)


async def test_logout_revokes_the_refresh_token(auth_hub: Hub, alice: str) -> None:
    pair = await auth_hub.auth.login("alice", PASSWORD)
    other_session = await auth_hub.auth.login("alice", PASSWORD)

    await auth_hub.auth.logout(pair.refresh_token, address="127.0.0.1")

    with pytest.raises(InvalidToken):
        await auth_hub.auth.refresh(pair.refresh_token)
    assert await auth_hub.auth.refresh(other_session.refresh_token)  # only that session ended
    await auth_hub.auth.logout(pair.refresh_token)  # twice is harmless
    await auth_hub.auth.logout("never issued")
    assert len(await auth_hub.auth.audit.entries(action="logout")) == 1


async def test_an_expired_refresh_token_is_refused(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config={"auth": {"refresh_token_days": 1 / 86400}})  # one second
    tenant = await hub.tenants.create("acme")
    await hub.auth.create_user("alice", PASSWORD, tenant_id=tenant.id)
    pair = await hub.auth.login("alice", PASSWORD)

    await asyncio.sleep(1.2)

    with pytest.raises(InvalidToken, match="expired"):
        await hub.auth.refresh(pair.refresh_token)


async def test_unknown_refresh_tokens_are_refused(auth_hub: Hub, alice: str) -> None:
    for token in ("", "made-up", (await auth_hub.auth.login("alice", PASSWORD)).access_token):
        with pytest.raises(InvalidToken):
            await auth_hub.auth.refresh(token)
