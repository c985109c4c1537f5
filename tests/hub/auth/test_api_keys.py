"""API keys: a secret shown once, stored as a hash, carrying its tenant and role, revoked at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.auth import Forbidden, InvalidToken, InvalidUserInput, NotFound, Role
from hub.auth.tokens import digest
from hub.core import Hub
from hub.store.models import ApiKeyRow
from hub.tenants import Tenant
from hub.testing import HubFactory

from .conftest import PASSWORD


async def test_a_key_acts_in_its_tenant_with_its_role_as_nobody_in_particular(auth_hub: Hub, acme: Tenant) -> None:
    admin = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id, role=Role.ADMIN)

    key, secret = await auth_hub.auth.create_api_key(
        "door panel", tenant_id=acme.id, role="operator", created_by=admin.id
    )

    assert secret.startswith("gh_") and len(secret) > 40
    assert key.prefix == secret[:10] and secret.startswith(key.prefix)
    caller = auth_hub.auth.authenticate(secret)
    assert (caller.user_id, caller.tenant_id, caller.role, caller.name, caller.via) == (
        None,
        acme.id,
        Role.OPERATOR,
        "door panel",
        "api_key",
    )
    assert not caller.platform_admin
    assert caller.context().tenant_id == acme.id and caller.context().user_id is None
    assert key.as_dict()["created_by"] == admin.id and "secret" not in str(key.as_dict())


async def test_only_the_hash_of_the_secret_is_stored(auth_hub: Hub, acme: Tenant) -> None:
    key, secret = await auth_hub.auth.create_api_key("ci", tenant_id=acme.id, role=Role.VIEWER, created_by=None)

    async with auth_hub.database.session() as session:
        row = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.id == key.id))
    assert row is not None
    assert row.key_hash == digest(secret)
    assert secret not in (row.key_hash, row.prefix, row.name)


async def test_a_revoked_key_is_refused_from_the_next_request(auth_hub: Hub, acme: Tenant) -> None:
    key, secret = await auth_hub.auth.create_api_key("ci", tenant_id=acme.id, role=Role.VIEWER, created_by=None)
    auth_hub.auth.authenticate(secret)

    revoked = await auth_hub.auth.revoke_api_key(key.id)

    assert revoked.revoked_at is not None
    with pytest.raises(InvalidToken):
        auth_hub.auth.authenticate(secret)
    assert auth_hub.auth.api_keys(acme.id) == []
    assert [k.id for k in auth_hub.auth.api_keys(acme.id, include_revoked=True)] == [key.id]
    with pytest.raises(NotFound):
        await auth_hub.auth.revoke_api_key("no-such-key")


async def test_unknown_keys_are_refused(auth_hub: Hub, acme: Tenant) -> None:
    _, secret = await auth_hub.auth.create_api_key("ci", tenant_id=acme.id, role=Role.VIEWER, created_by=None)

    for guess in ("gh_", secret[:-1], secret + "x", "gh_" + "A" * 43):
        with pytest.raises(InvalidToken):
            auth_hub.auth.authenticate(guess)


async def test_keys_and_their_revocation_survive_a_restart(
    database_url: str, hub_factory: HubFactory, auth_hub: Hub, acme: Tenant
) -> None:
    _, kept_secret = await auth_hub.auth.create_api_key("kept", tenant_id=acme.id, role="admin", created_by=None)
    gone, gone_secret = await auth_hub.auth.create_api_key("gone", tenant_id=acme.id, role="admin", created_by=None)
    await auth_hub.auth.revoke_api_key(gone.id)
    await auth_hub.stop()

    second = await hub_factory(database_url=database_url)

    assert second.auth.authenticate(kept_secret).role == Role.ADMIN
    with pytest.raises(InvalidToken):
        second.auth.authenticate(gone_secret)
    assert [key.name for key in second.auth.api_keys()] == ["kept"]


async def test_a_key_never_has_more_power_than_its_creator(auth_hub: Hub, acme: Tenant, globex: Tenant) -> None:
    operator = await auth_hub.auth.create_user("olga", PASSWORD, tenant_id=acme.id, role=Role.OPERATOR)
    root = await auth_hub.auth.create_user("root", PASSWORD, tenant_id=None, role=Role.OWNER, platform_admin=True)

    with pytest.raises(Forbidden):
        await auth_hub.auth.create_api_key("x", tenant_id=acme.id, role=Role.ADMIN, created_by=operator.id)
    with pytest.raises(NotFound):  # another tenant does not exist for her
        await auth_hub.auth.create_api_key("x", tenant_id=globex.id, role=Role.VIEWER, created_by=operator.id)
    with pytest.raises(Forbidden):
        await auth_hub.auth.create_api_key(
            "x", tenant_id=None, role=Role.VIEWER, created_by=operator.id, platform_admin=True
        )
    await auth_hub.auth.create_api_key("ok", tenant_id=acme.id, role=Role.OPERATOR, created_by=operator.id)

    _, secret = await auth_hub.auth.create_api_key(
        "platform", tenant_id=None, role=Role.OWNER, created_by=root.id, platform_admin=True
    )
    assert auth_hub.auth.authenticate(secret).platform_admin
    with pytest.raises(InvalidUserInput):
        await auth_hub.auth.create_api_key("no tenant", tenant_id=None, role=Role.VIEWER, created_by=root.id)
    with pytest.raises(InvalidUserInput):
        await auth_hub.auth.create_api_key("", tenant_id=acme.id, role=Role.VIEWER, created_by=root.id)
    with pytest.raises(InvalidUserInput):
        await auth_hub.auth.create_api_key("x", tenant_id=acme.id, role="superuser", created_by=root.id)


async def test_last_use_is_written_at_most_once_a_minute(auth_hub: Hub, acme: Tenant) -> None:
    key, secret = await auth_hub.auth.create_api_key("ci", tenant_id=acme.id, role=Role.VIEWER, created_by=None)
    assert key.last_used_at is None

    for _ in range(50):
        auth_hub.auth.authenticate(secret)
    await auth_hub.block_till_done()

    used = auth_hub.auth.api_key(key.id)
    assert used is not None and used.last_used_at is not None
    async with auth_hub.database.session() as session:
        stored = await session.scalar(select(ApiKeyRow.last_used_at).where(ApiKeyRow.id == key.id))
    assert stored == used.last_used_at  # one write for fifty requests: later ones within the minute changed nothing


async def test_keys_are_listed_per_tenant_newest_first(auth_hub: Hub, acme: Tenant, globex: Tenant) -> None:
    for name in ("first", "second"):
        await auth_hub.auth.create_api_key(name, tenant_id=acme.id, role=Role.VIEWER, created_by=None)
    await auth_hub.auth.create_api_key("theirs", tenant_id=globex.id, role=Role.VIEWER, created_by=None)

    assert [key.name for key in auth_hub.auth.api_keys(acme.id)] == ["second", "first"]
    assert {key.name for key in auth_hub.auth.api_keys()} == {"first", "second", "theirs"}
