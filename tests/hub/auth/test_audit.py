"""The audit log: entries written at once, read per tenant, newest first, a page at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.auth import SYSTEM, InvalidCredentials, Role
from hub.core import Hub
from hub.store.models import AuditRow
from hub.tenants import Tenant

from .conftest import PASSWORD


async def test_an_entry_records_who_did_what_to_what_from_where(auth_hub: Hub, acme: Tenant) -> None:
    user = await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id, role=Role.ADMIN)

    await auth_hub.auth.audit.record(
        user.caller(), "device.claim", target="tm20:ZX0006827500", details={"serial": "ZX0006827500"}, address="::1"
    )

    (entry,) = await auth_hub.auth.audit.entries(tenant_id=acme.id)
    assert entry.as_dict() == {
        "id": entry.id,
        "time": entry.time,
        "tenant_id": acme.id,
        "user_id": user.id,
        "user_name": "alice",
        "action": "device.claim",
        "target": "tm20:ZX0006827500",
        "details": {"serial": "ZX0006827500"},
        "address": "::1",
    }


async def test_an_api_key_is_recorded_by_its_name(auth_hub: Hub, acme: Tenant) -> None:
    _, secret = await auth_hub.auth.create_api_key("door panel", tenant_id=acme.id, role="operator", created_by=None)

    await auth_hub.auth.audit.record(auth_hub.auth.authenticate(secret), "service.call", target="lock.unlock")

    (entry,) = await auth_hub.auth.audit.entries(tenant_id=acme.id)
    assert (entry.user_id, entry.user_name, entry.tenant_id) == (None, "door panel", acme.id)


async def test_entries_are_read_per_tenant_newest_first_and_paged(auth_hub: Hub, acme: Tenant, globex: Tenant) -> None:
    for number in range(7):
        await auth_hub.auth.audit.record(SYSTEM, "config_entry.add", target=f"acme-{number}", tenant_id=acme.id)
    await auth_hub.auth.audit.record(SYSTEM, "config_entry.add", target="globex", tenant_id=globex.id)

    first = await auth_hub.auth.audit.entries(tenant_id=acme.id, limit=3)
    second = await auth_hub.auth.audit.entries(tenant_id=acme.id, limit=3, before=first[-1].time)
    last = await auth_hub.auth.audit.entries(tenant_id=acme.id, limit=3, before=second[-1].time)

    assert [entry.target for entry in first + second + last] == [f"acme-{n}" for n in range(6, -1, -1)]
    assert len(await auth_hub.auth.audit.entries()) == 8  # the platform view: every tenant
    assert [entry.target for entry in await auth_hub.auth.audit.entries(tenant_id=globex.id)] == ["globex"]


async def test_entries_can_be_filtered_by_action(auth_hub: Hub, acme: Tenant) -> None:
    await auth_hub.auth.audit.record(SYSTEM, "device.claim", tenant_id=acme.id)
    await auth_hub.auth.audit.record(SYSTEM, "device.release", tenant_id=acme.id)

    assert [entry.action for entry in await auth_hub.auth.audit.entries(action="device.release")] == ["device.release"]


async def test_sign_ins_and_failures_are_audited_without_the_password(auth_hub: Hub, acme: Tenant) -> None:
    await auth_hub.auth.create_user("alice", PASSWORD, tenant_id=acme.id)
    await auth_hub.auth.login("alice", PASSWORD, address="192.0.2.1")
    for username, password in (("alice", "hunter2-alpha"), ("mallory", "hunter2-beta")):
        with pytest.raises(InvalidCredentials):
            await auth_hub.auth.login(username, password, address="203.0.113.5")

    failures = await auth_hub.auth.audit.entries(action="login_failed")
    assert [(entry.address, entry.details and entry.details["username"]) for entry in failures] == [
        ("203.0.113.5", "mallory"),
        ("203.0.113.5", "alice"),
    ]
    assert failures[1].tenant_id == acme.id and failures[0].tenant_id is None
    (login,) = await auth_hub.auth.audit.entries(tenant_id=acme.id, action="login")
    assert (login.user_name, login.address) == ("alice", "192.0.2.1")
    async with auth_hub.database.session() as session:
        rows = (await session.scalars(select(AuditRow))).all()
    stored = " ".join(f"{row.details} {row.target} {row.user_name}" for row in rows)
    assert "hunter2" not in stored and PASSWORD not in stored
