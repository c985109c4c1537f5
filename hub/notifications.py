"""Persistent notifications (``hub.notifications``): messages a tenant's dashboard shows until somebody dismisses them.

Automations create them with the ``notify.persistent_notification`` service (``title``, ``message``, and
``camera``: a camera entity whose snapshot, taken at that moment, is stored with the notification in
``<config>/media/notifications/``). They are kept in the database (table ``notifications``), owned by the
tenant of the call's context, and announced with ``notification_created`` / ``notification_dismissed`` events
so open dashboards update live.

    await hub.services.call("notify", "persistent_notification", {"title": "Gate", "message": "Person seen",
                            "camera": "camera.gate"}, context=Context(tenant_id=tenant.id))
    for notification in hub.notifications.all(tenant.id):
        print(notification.message, hub.notifications.image_path(notification.id))
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from sqlalchemy import select, update

from hub.camera import Camera
from hub.core import Context, EventType, ServiceCall, valid_entity_id
from hub.exceptions import ServiceValidationError
from hub.store.models import NotificationRow

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.store.database import Database

_LOGGER = logging.getLogger(__name__)

DOMAIN = "notify"
SERVICE_PERSISTENT_NOTIFICATION = "persistent_notification"
ATTR_TITLE = "title"
ATTR_MESSAGE = "message"
ATTR_CAMERA = "camera"

#: ``{"id", "title"}`` of the new notification; tenant-scoped.
EVENT_NOTIFICATION_CREATED: EventType[dict[str, Any]] = EventType("notification_created")
#: ``{"id"}`` of the dismissed notification; tenant-scoped.
EVENT_NOTIFICATION_DISMISSED: EventType[dict[str, Any]] = EventType("notification_dismissed")

MEDIA_FOLDER = Path("media") / "notifications"
#: Undismissed notifications kept per tenant: beyond it the oldest are dismissed (a flooding automation
#: cannot fill the dashboard, the database or the disk).
MAX_ACTIVE_PER_TENANT = 200
SNAPSHOT_WIDTH = 1280
MAX_MESSAGE_LENGTH = 4000


def _camera_id(value: Any) -> str | None:
    """A camera entity id; empty (what a blueprint's empty input gives) means no snapshot."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not valid_entity_id(value) or not value.startswith("camera."):
        raise vol.Invalid(f"expected a camera entity id like camera.gate, got {value!r}")
    return value


PERSISTENT_NOTIFICATION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_MESSAGE): vol.All(vol.Coerce(str), vol.Length(min=1, max=MAX_MESSAGE_LENGTH)),
        vol.Optional(ATTR_TITLE): vol.Any(None, vol.All(vol.Coerce(str), vol.Length(max=255))),
        vol.Optional(ATTR_CAMERA): _camera_id,
    }
)


@dataclass(slots=True)
class Notification:
    id: str
    tenant_id: str | None
    title: str | None
    message: str
    camera: str | None
    image: str | None
    context_id: str | None
    created_at: float
    dismissed_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "title": self.title,
            "message": self.message,
            "camera": self.camera,
            "has_image": self.image is not None,
            "image_url": f"/api/notifications/{self.id}/image" if self.image else None,
            "created_at": self.created_at,
            "dismissed_at": self.dismissed_at,
        }

    @classmethod
    def from_row(cls, row: NotificationRow) -> Notification:
        return cls(row.id, row.tenant_id, row.title, row.message, row.camera, row.image, row.context_id,
                   row.created_at, row.dismissed_at)  # fmt: skip


def _new_id() -> str:
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


class NotificationManager:
    """The undismissed notifications of every tenant, in memory, written through to the database."""

    def __init__(self, hub: Hub, database: Database, media_dir: Path) -> None:
        self.hub = hub
        self.database = database
        self.media_dir = media_dir
        self._active: dict[str, Notification] = {}

    async def load(self) -> None:
        async with self.database.session() as session:
            rows = (await session.scalars(select(NotificationRow).where(NotificationRow.dismissed_at.is_(None)))).all()
        self._active = {row.id: Notification.from_row(row) for row in sorted(rows, key=lambda row: row.created_at)}

    def all(self, tenant_id: str | None = None) -> list[Notification]:
        """Undismissed notifications, newest first: one tenant's, or every tenant's when ``tenant_id`` is None
        (pass ``TenantScope.tenant_filter``, so only platform administrators see them all)."""
        found = [item for item in self._active.values() if tenant_id is None or item.tenant_id == tenant_id]
        return sorted(found, key=lambda item: item.created_at, reverse=True)

    def get(self, notification_id: str) -> Notification | None:
        """An undismissed notification; check its ``tenant_id`` with the caller's scope before showing it."""
        return self._active.get(notification_id)

    def image_path(self, notification_id: str) -> Path | None:
        """The snapshot JPEG of a notification, when it has one and the file is still there."""
        notification = self._active.get(notification_id)
        if notification is None or notification.image is None:
            return None
        path = self.media_dir / notification.image
        return path if path.is_file() else None

    async def create(
        self,
        message: str,
        *,
        title: str | None = None,
        tenant_id: str | None = None,
        camera: str | None = None,
        context: Context | None = None,
    ) -> Notification:
        """Store a notification; with ``camera``, a snapshot of it now (a failed snapshot is logged, not fatal)."""
        notification = Notification(_new_id(), tenant_id, title, message, camera, None,
                                    context.id if context is not None else None, time.time())  # fmt: skip
        if camera is not None:
            notification.image = await self._snapshot(notification.id, camera)
        async with self.database.session() as session:
            session.add(
                NotificationRow(
                    id=notification.id,
                    tenant_id=tenant_id,
                    title=title,
                    message=message,
                    camera=camera,
                    image=notification.image,
                    context_id=notification.context_id,
                    created_at=notification.created_at,
                    dismissed_at=None,
                )
            )
            await session.commit()
        self._active[notification.id] = notification
        self.hub.bus.fire(
            EVENT_NOTIFICATION_CREATED, {"id": notification.id, "title": title}, context=context, tenant_id=tenant_id
        )
        await self._trim(tenant_id)
        return notification

    async def dismiss(self, notification_id: str) -> bool:
        """Dismiss one notification (its snapshot file is deleted); False when there is no such one."""
        notification = self._active.pop(notification_id, None)
        if notification is None:
            return False
        notification.dismissed_at = time.time()
        async with self.database.session() as session:
            await session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == notification_id)
                .values(dismissed_at=notification.dismissed_at)
            )
            await session.commit()
        if notification.image is not None:
            await self.hub.run_in_executor(_unlink, self.media_dir / notification.image)
        self.hub.bus.fire(EVENT_NOTIFICATION_DISMISSED, {"id": notification_id}, tenant_id=notification.tenant_id)
        return True

    async def _trim(self, tenant_id: str | None) -> None:
        owned = (
            self.all(tenant_id) if tenant_id is not None else [n for n in self._active.values() if n.tenant_id is None]
        )
        for notification in sorted(owned, key=lambda item: item.created_at)[
            : max(0, len(owned) - MAX_ACTIVE_PER_TENANT)
        ]:
            await self.dismiss(notification.id)

    async def _snapshot(self, notification_id: str, camera_id: str) -> str | None:
        camera = self.hub.entities.entity(camera_id)
        if not isinstance(camera, Camera):
            _LOGGER.warning("Notification without snapshot: %s is not a camera", camera_id)
            return None
        try:
            jpeg = await camera.async_camera_image(width=SNAPSHOT_WIDTH)
        except Exception as error:  # the camera is down: the notification matters more than its picture
            _LOGGER.warning("Notification without snapshot: %s failed: %s", camera_id, error)
            return None
        if not jpeg:
            _LOGGER.warning("Notification without snapshot: %s gave no image", camera_id)
            return None
        name = f"{notification_id}.jpg"
        await self.hub.run_in_executor(_write, self.media_dir / name, jpeg)
        return name

    # -------------------------------------------------------------------------------------------- service

    async def async_handle_persistent_notification(self, call: ServiceCall) -> dict[str, Any]:
        """``notify.persistent_notification``: owned by the caller's tenant; its camera must be the tenant's too."""
        tenant_id = call.context.tenant_id if call.context is not None else None
        camera = call.data.get(ATTR_CAMERA)
        if camera is not None:
            state = self.hub.states.get(camera)
            if state is None or (tenant_id is not None and state.tenant_id != tenant_id):
                raise ServiceValidationError(
                    DOMAIN, SERVICE_PERSISTENT_NOTIFICATION, {ATTR_CAMERA: f"{camera} not found"}
                )
        notification = await self.create(
            call.data[ATTR_MESSAGE],
            title=call.data.get(ATTR_TITLE),
            tenant_id=tenant_id,
            camera=camera,
            context=call.context,
        )
        return notification.as_dict()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


async def async_setup_notifications(hub: Hub) -> NotificationManager:
    """Attach ``hub.notifications`` and register ``notify.persistent_notification``; a second call returns it."""
    existing = getattr(hub, "notifications", None)
    if isinstance(existing, NotificationManager):
        return existing
    manager = NotificationManager(hub, hub.database, hub.config_dir / MEDIA_FOLDER)
    await manager.load()
    hub.notifications = manager
    hub.services.register(
        DOMAIN,
        SERVICE_PERSISTENT_NOTIFICATION,
        manager.async_handle_persistent_notification,
        PERSISTENT_NOTIFICATION_SCHEMA,
        description="Show a notification on the tenant's dashboard until dismissed (title, message, camera snapshot)",
    )
    return manager
