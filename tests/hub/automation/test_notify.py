"""Notifications: persistent ones (stored, tenant-owned, with a real camera snapshot, dismissable, bounded) and the
webhook notifier (a real HTTP server on loopback; failures answered and logged once)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from PIL import Image
from sqlalchemy import select

from hub import notifications as notifications_module
from hub.core import Context, Event, Hub
from hub.exceptions import ServiceValidationError
from hub.notifications import (
    EVENT_NOTIFICATION_CREATED,
    EVENT_NOTIFICATION_DISMISSED,
    NotificationManager,
    async_setup_notifications,
)
from hub.store.models import NotificationRow
from hub.tenants import Tenant
from hub.testing import HubFactory, free_port

NOTIFY = "notify"


@pytest.fixture
async def notifications(hub: Hub) -> NotificationManager:
    return await async_setup_notifications(hub)


async def notify(hub: Hub, tenant: Tenant | None, **data: Any) -> dict[str, Any]:
    context = Context(tenant_id=tenant.id if tenant else None)
    result: dict[str, Any] = await hub.services.call(NOTIFY, "persistent_notification", data, context=context)
    return result


async def add_camera(hub: Hub, tenant: Tenant, source: str, name: str) -> str:
    entry = await hub.config_entries.add("cameras", {"url": source, "name": name}, tenant_id=tenant.id, title=name)
    assert entry.state == "loaded", entry.reason
    entity_id: str = entry.runtime_data.entity_id
    return entity_id


async def test_a_notification_is_stored_for_the_callers_tenant(
    hub: Hub, notifications: NotificationManager, tenant: Tenant
) -> None:
    other = await hub.tenants.create("globex")
    events: list[Event[Any]] = []
    hub.bus.listen(EVENT_NOTIFICATION_CREATED, events.append)

    created = await notify(hub, tenant, title="Gate", message="Somebody rang")

    (notification,) = notifications.all(tenant.id)
    assert (notification.id, notification.title, notification.message) == (created["id"], "Gate", "Somebody rang")
    assert notification.tenant_id == tenant.id and notification.image is None
    assert notifications.all(other.id) == []
    assert [notification.id for notification in notifications.all()] == [created["id"]]  # platform admins: all
    assert [(event.data["id"], event.tenant_id) for event in events] == [(created["id"], tenant.id)]
    async with hub.database.session() as session:
        row = (await session.scalars(select(NotificationRow))).one()
    assert (row.id, row.tenant_id, row.message, row.dismissed_at) == (created["id"], tenant.id, "Somebody rang", None)


async def test_notifications_survive_a_restart_until_dismissed(
    hub_factory: HubFactory, database_url: str, tmp_path: Path
) -> None:
    first = await hub_factory(database_url=database_url, config_dir=tmp_path / "config")
    tenant = await first.tenants.create("acme")
    first_manager = await async_setup_notifications(first)
    kept = await notify(first, tenant, message="kept")
    gone = await notify(first, tenant, message="gone")
    assert await first_manager.dismiss(gone["id"])
    await first.stop()

    second = await hub_factory(database_url=database_url, config_dir=tmp_path / "config")
    manager = await async_setup_notifications(second)

    assert [notification.id for notification in manager.all(tenant.id)] == [kept["id"]]


async def test_dismiss_removes_it_and_says_so(hub: Hub, notifications: NotificationManager, tenant: Tenant) -> None:
    events: list[Event[Any]] = []
    hub.bus.listen(EVENT_NOTIFICATION_DISMISSED, events.append)
    created = await notify(hub, tenant, message="Door left open")

    assert await notifications.dismiss(created["id"]) is True
    assert await notifications.dismiss(created["id"]) is False
    assert notifications.all(tenant.id) == [] and notifications.get(created["id"]) is None
    assert [(event.data["id"], event.tenant_id) for event in events] == [(created["id"], tenant.id)]
    async with hub.database.session() as session:
        row = (await session.scalars(select(NotificationRow))).one()
    assert row.dismissed_at is not None


async def test_a_camera_snapshot_is_taken_and_stored_with_it(
    hub: Hub, notifications: NotificationManager, tenant: Tenant, video_file: Path
) -> None:
    camera = await add_camera(hub, tenant, str(video_file), "Gate")

    created = await notify(hub, tenant, title="Person", message="after hours", camera=camera)

    path = notifications.image_path(created["id"])
    assert path is not None and path.parent == hub.config_dir / "media" / "notifications"
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        assert (image.format, image.size) == ("JPEG", (640, 360))
    assert created["has_image"] and created["image_url"] == f"/api/notifications/{created['id']}/image"
    assert created["camera"] == camera
    await notifications.dismiss(created["id"])
    assert not path.exists()


async def test_another_tenants_camera_is_refused(
    hub: Hub, notifications: NotificationManager, tenant: Tenant, video_file: Path
) -> None:
    other = await hub.tenants.create("globex")
    theirs = await add_camera(hub, other, str(video_file), "Their gate")

    with pytest.raises(ServiceValidationError) as caught:
        await notify(hub, tenant, message="peek", camera=theirs)

    assert caught.value.fields == {"camera": f"{theirs} not found"}
    assert notifications.all() == []


async def test_a_failing_camera_still_notifies_without_a_picture(
    hub: Hub, notifications: NotificationManager, tenant: Tenant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub.streams.open_timeout = 2.0
    camera = await add_camera(hub, tenant, str(tmp_path / "missing.mp4"), "Broken")

    created = await notify(hub, tenant, message="still told", camera=camera)

    assert created["has_image"] is False and notifications.image_path(created["id"]) is None
    assert [notification.message for notification in notifications.all(tenant.id)] == ["still told"]
    assert any("Notification without snapshot" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "no message"}, "message"),
        ({"message": ""}, "message"),
        ({"message": "x", "camera": "lock.front_door"}, "camera"),
        ({"message": "x", "colour": "red"}, "colour"),
    ],
)
async def test_bad_data_is_refused_naming_the_field(
    hub: Hub, notifications: NotificationManager, tenant: Tenant, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(ServiceValidationError) as caught:
        await notify(hub, tenant, **data)
    assert list(caught.value.fields) == [field]


async def test_a_flood_keeps_only_the_newest(
    hub: Hub, notifications: NotificationManager, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifications_module, "MAX_ACTIVE_PER_TENANT", 3)
    other = await hub.tenants.create("globex")
    await notify(hub, other, message="theirs")
    for number in range(5):
        await notify(hub, tenant, message=f"n{number}")

    assert [notification.message for notification in notifications.all(tenant.id)] == ["n4", "n3", "n2"]
    assert [notification.message for notification in notifications.all(other.id)] == ["theirs"]


# -------------------------------------------------------------------------------------------- webhooks


class Receiver:
    """A real HTTP server on loopback that records what webhooks POST, answering ``status``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        return web.Response(status=self.status, text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
    yield receiver
    await runner.cleanup()


async def webhook_hub(hub_factory: HubFactory, webhooks: dict[str, Any]) -> Hub:
    return await hub_factory(config={"notify": {"timeout": 2, "webhooks": webhooks}})


async def call_webhook(hub: Hub, tenant: Tenant | None, **data: Any) -> dict[str, Any]:
    context = Context(tenant_id=tenant.id if tenant else None)
    result: dict[str, Any] = await hub.services.call(NOTIFY, "webhook", data, context=context)
    return result


async def test_a_webhook_posts_json_to_the_named_url(hub_factory: HubFactory, receiver: Receiver) -> None:
    hub = await webhook_hub(hub_factory, {"ops": receiver.url})
    tenant = await hub.tenants.create("acme")

    result = await call_webhook(hub, tenant, name="ops", title="Gate", message="Person seen", data={"camera": "x"})

    assert result == {"delivered": True, "status": 200}
    (payload,) = receiver.received
    assert (
        payload.items()
        >= {"title": "Gate", "message": "Person seen", "data": {"camera": "x"}, "tenant": "acme"}.items()
    )
    assert hub.services.has(NOTIFY, "persistent_notification")  # the notify section starts the core's too


async def test_an_unknown_or_forbidden_webhook_is_refused_naming_it(
    hub_factory: HubFactory, receiver: Receiver
) -> None:
    hub = await webhook_hub(hub_factory, {"ops": receiver.url, "site_b": {"url": receiver.url, "tenants": ["globex"]}})
    tenant = await hub.tenants.create("acme")
    globex = await hub.tenants.create("globex")

    with pytest.raises(ServiceValidationError) as unknown:
        await call_webhook(hub, tenant, name="sales", message="x")
    with pytest.raises(ServiceValidationError) as forbidden:
        await call_webhook(hub, tenant, name="site_b", message="x")

    assert unknown.value.fields == {"name": "no webhook named 'sales' in notify.webhooks (known: ops)"}
    assert "no webhook named 'site_b'" in forbidden.value.fields["name"]
    assert (await call_webhook(hub, globex, name="site_b", message="x"))["delivered"] is True
    assert len(receiver.received) == 1


async def test_a_failing_webhook_is_answered_and_logged_once(
    hub_factory: HubFactory, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await webhook_hub(hub_factory, {"ops": receiver.url, "down": f"http://127.0.0.1:{free_port()}/x"})
    caplog.set_level(logging.INFO, logger="integrations.notify")
    receiver.status = 500

    first = await call_webhook(hub, None, name="ops", message="1")
    second = await call_webhook(hub, None, name="ops", message="2")
    refused = await call_webhook(hub, None, name="down", message="3")
    receiver.status = 204
    back = await call_webhook(hub, None, name="ops", message="4")

    assert first == second == {"delivered": False, "error": "HTTP 500"}
    assert refused["delivered"] is False and "ClientConnectorError" in refused["error"]
    assert back == {"delivered": True, "status": 204}
    messages = [record.getMessage() for record in caplog.records if record.name.startswith("integrations.notify")]
    assert sum("Webhook ops failed: HTTP 500" in message for message in messages) == 1
    assert sum("Webhook down failed" in message for message in messages) == 1
    assert "Webhook ops works again" in messages


async def test_a_bad_webhook_url_is_a_configuration_error(
    hub_factory: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await webhook_hub(hub_factory, {"ops": "ftp://example.invalid/x"})

    assert not hub.services.has(NOTIFY, "webhook")
    assert any("notify.webhooks.ops" in record.getMessage() for record in caplog.records)
