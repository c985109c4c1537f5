"""Users: argon2 hashes, unique case-insensitive usernames, and changes that apply to the very next request."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from hub.auth import (
    AuthConflict,
    InvalidCredentials,
    InvalidToken,
    InvalidUserInput,
    LastPlatformAdmin,
    NotFound,
    Role,
    UsernameTaken,
)
from hub.core import Hub
from hub.store.models import RefreshTokenRow, UserRow
from hub.tenants import Tenant
from hub.testing import HubFactory

from .conftest import PASSWORD


async def _stored_hash(hub: Hub, user_id: str) -> str:
    async with hub.database.session() as session:
        return (await session.scalar(select(UserRow.password_hash).where(UserRow.id == user_id))) or ""


async def test_password_is_stored_as_an_argon2id_hash_never_as_itself(auth_hub: Hub, acme: Tenant) -> None:
    user = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id, role=Role.OPERATOR)

    stored = await _stored_hash(auth_hub, user.id)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert "password" not in str(user.as_dict()) and "hash" not in str(user.as_dict())


async def test_right_password_signs_in_and_wrong_one_is_refused(auth_hub: Hub, acme: Tenant) -> None:
    await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id, role=Role.OPERATOR)

    pair = await auth_hub.auth.login("alice", PASSWORD, address="127.0.0.1")
    caller = auth_hub.auth.authenticate(pair.access_token)
    assert (caller.tenant_id, caller.role, caller.name, caller.via) == (acme.id, Role.OPERATOR, "alice", "token")
    assert auth_hub.auth.user(caller.user_id or "") is not None
    with pytest.raises(InvalidCredentials):
        await auth_hub.auth.login("alice", PASSWORD + "!", address="127.0.0.1")
    with pytest.raises(InvalidCredentials):
        await auth_hub.auth.login("nobody", PASSWORD, address="127.0.0.1")


async def test_usernames_are_unique_ignoring_case(auth_hub: Hub, acme: Tenant, globex: Tenant) -> None:
    user = await auth_hub.auth.create_user("Alice.Smith", PASSWORD, tenant_id=acme.id)

    assert user.username == "alice.smith"
    with pytest.raises(UsernameTaken):
        await auth_hub.auth.create_user("ALICE.SMITH", PASSWORD, tenant_id=globex.id)
    assert (await auth_hub.auth.login("ALICE.smith", PASSWORD)).access_token


@pytest.mark.parametrize("username", ["al", "a" * 65, "alice smith", "alice/1", "élodie", ""])
async def test_a_username_is_3_to_64_letters_digits_or_dot_underscore_at_dash(
    hub: Hub, tenant: Tenant, username: str
) -> None:
    with pytest.raises(InvalidUserInput) as refused:
        await hub.auth.create_user(username, PASSWORD, tenant_id=tenant.id)
    assert list(refused.value.fields) == ["username"]


async def test_accepted_usernames(hub: Hub, tenant: Tenant) -> None:
    for username in ("bob", "jo.doe-2", "ops@acme.example", "a_b"):
        assert (await hub.auth.create_user(username, PASSWORD, tenant_id=tenant.id)).username == username


async def test_passwords_shorter_than_8_characters_are_refused(hub: Hub, tenant: Tenant) -> None:
    for password in ("", "1234567"):
        with pytest.raises(InvalidUserInput) as refused:
            await hub.auth.create_user("alice", password, tenant_id=tenant.id)
        assert list(refused.value.fields) == ["password"]


async def test_only_a_platform_administrator_may_have_no_tenant(hub: Hub, tenant: Tenant) -> None:
    with pytest.raises(InvalidUserInput) as refused:
        await hub.auth.create_user("alice", PASSWORD, tenant_id=None, role=Role.ADMIN)
    assert list(refused.value.fields) == ["tenant_id"]
    with pytest.raises(InvalidUserInput):
        await hub.auth.create_user("alice", PASSWORD, tenant_id="no-such-tenant")

    root = await hub.auth.create_user("root", PASSWORD, tenant_id=None, role=Role.OWNER, platform_admin=True)
    caller = hub.auth.authenticate((await hub.auth.login("root", PASSWORD)).access_token)
    assert caller.platform_admin and caller.tenant_id is None and caller.user_id == root.id


async def test_login_rehashes_a_password_hashed_with_older_parameters(auth_hub: Hub, acme: Tenant) -> None:
    current = auth_hub.auth.passwords.hasher
    auth_hub.auth.passwords.hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    user = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id)
    old_hash = await _stored_hash(auth_hub, user.id)
    auth_hub.auth.passwords.hasher = current  # the hub was upgraded to stronger parameters

    await auth_hub.auth.login("alice", PASSWORD)

    new_hash = await _stored_hash(auth_hub, user.id)
    assert new_hash != old_hash
    assert not current.check_needs_rehash(new_hash)
    assert (await auth_hub.auth.login("alice", PASSWORD)).access_token  # and the new hash still verifies


async def test_a_disabled_user_is_refused_at_once_everywhere(auth_hub: Hub, acme: Tenant) -> None:
    user = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id, role=Role.ADMIN)
    pair = await auth_hub.auth.login("alice", PASSWORD)

    await auth_hub.auth.update_user(user.id, disabled=True)

    with pytest.raises(InvalidToken):
        auth_hub.auth.authenticate(pair.access_token)  # the access token has not expired, it is refused anyway
    with pytest.raises(InvalidToken):
        await auth_hub.auth.refresh(pair.refresh_token)
    with pytest.raises(InvalidCredentials):
        await auth_hub.auth.login("alice", PASSWORD)
    async with auth_hub.database.session() as session:
        rows = (await session.scalars(select(RefreshTokenRow).where(RefreshTokenRow.user_id == user.id))).all()
    assert rows and all(row.revoked_at is not None for row in rows)

    await auth_hub.auth.update_user(user.id, disabled=False)
    assert auth_hub.auth.authenticate((await auth_hub.auth.login("alice", PASSWORD)).access_token).role == Role.ADMIN


async def test_a_role_change_applies_to_the_next_request_and_the_next_token(auth_hub: Hub, acme: Tenant) -> None:
    import jwt

    user = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id, role=Role.ADMIN)
    pair = await auth_hub.auth.login("alice", PASSWORD)
    assert auth_hub.auth.authenticate(pair.access_token).role == Role.ADMIN

    await auth_hub.auth.update_user(user.id, role=Role.VIEWER)

    assert auth_hub.auth.authenticate(pair.access_token).role == Role.VIEWER  # the old token says admin: not obeyed
    renewed = await auth_hub.auth.refresh(pair.refresh_token)
    assert jwt.decode(renewed.access_token, options={"verify_signature": False})["role"] == "viewer"


async def test_a_new_password_replaces_the_old_and_ends_sessions(auth_hub: Hub, acme: Tenant) -> None:
    user = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id)
    pair = await auth_hub.auth.login("alice", PASSWORD)

    await auth_hub.auth.update_user(user.id, password="a new passphrase")

    with pytest.raises(InvalidCredentials):
        await auth_hub.auth.login("alice", PASSWORD)
    with pytest.raises(InvalidToken):
        await auth_hub.auth.refresh(pair.refresh_token)
    assert await auth_hub.auth.login("alice", "a new passphrase")


async def test_a_deleted_user_is_gone_with_their_tokens(auth_hub: Hub, acme: Tenant) -> None:
    user = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id)
    pair = await auth_hub.auth.login("alice", PASSWORD)

    await auth_hub.auth.delete_user(user.id)

    assert auth_hub.auth.user(user.id) is None and auth_hub.auth.users() == []
    with pytest.raises(InvalidToken):
        auth_hub.auth.authenticate(pair.access_token)
    with pytest.raises(InvalidToken):
        await auth_hub.auth.refresh(pair.refresh_token)
    with pytest.raises(NotFound):
        await auth_hub.auth.delete_user(user.id)
    assert (await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id)).id != user.id  # name is free


async def test_the_last_platform_administrator_cannot_be_removed_disabled_or_demoted(hub: Hub, tenant: Tenant) -> None:
    root = await hub.auth.create_user("root", PASSWORD, tenant_id=None, role=Role.OWNER, platform_admin=True)

    with pytest.raises(LastPlatformAdmin):
        await hub.auth.update_user(root.id, disabled=True)
    with pytest.raises(LastPlatformAdmin):
        await hub.auth.delete_user(root.id)

    ops = await hub.auth.create_user("ops", PASSWORD, tenant_id=tenant.id, role=Role.OWNER, platform_admin=True)
    await hub.auth.update_user(ops.id, platform_admin=False)
    with pytest.raises(LastPlatformAdmin):
        await hub.auth.update_user(root.id, disabled=True)
    await hub.auth.update_user(ops.id, platform_admin=True)
    await hub.auth.delete_user(root.id)
    assert [user.username for user in hub.auth.users()] == ["ops"]


async def test_users_are_listed_per_tenant(hub: Hub, tenant: Tenant) -> None:
    other = await hub.tenants.create("globex")
    await hub.auth.create_user("bob", PASSWORD, tenant_id=tenant.id)
    await hub.auth.create_user("alice", PASSWORD, tenant_id=tenant.id)
    await hub.auth.create_user("carol", PASSWORD, tenant_id=other.id)

    assert [user.username for user in hub.auth.users(tenant.id)] == ["alice", "bob"]
    assert [user.username for user in hub.auth.users()] == ["alice", "bob", "carol"]


async def test_onboarding_makes_the_first_platform_administrator_only_once(hub: Hub) -> None:
    assert not hub.auth.has_users

    admin = await hub.auth.onboard("admin", PASSWORD, name="The Administrator")

    assert hub.auth.has_users
    assert (admin.platform_admin, admin.role, admin.tenant_id, admin.name) == (
        True,
        Role.OWNER,
        None,
        "The Administrator",
    )
    with pytest.raises(AuthConflict):
        await hub.auth.onboard("intruder", PASSWORD)


async def test_users_and_their_last_login_survive_a_restart(
    database_url: str, hub_factory: HubFactory, auth_hub: Hub, acme: Tenant
) -> None:
    user = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id, role=Role.OPERATOR)
    await auth_hub.auth.login("alice", PASSWORD)
    await auth_hub.stop()

    second = await hub_factory(database_url=database_url)

    again = second.auth.user(user.id)
    assert again is not None and again.role == Role.OPERATOR and again.last_login is not None
    assert second.auth.has_users
    assert await second.auth.login("alice", PASSWORD)
