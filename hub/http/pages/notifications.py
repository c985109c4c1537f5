"""The notifications panel of the overview: the tenant's undismissed notifications, newest first, with their
snapshots. ``notifications.js`` dismisses them through the REST API and follows new ones live.
"""

from __future__ import annotations

from hub.core import Hub
from hub.http.pages.rendering import Page
from hub.notifications import Notification, NotificationManager

#: The overview shows this many; the REST API lists them all.
SHOWN = 20


def notification_manager(hub: Hub) -> NotificationManager | None:
    """``hub.notifications``, attached when notifications started (None before)."""
    manager: NotificationManager | None = getattr(hub, "notifications", None)
    return manager


def visible_notifications(page: Page) -> list[Notification]:
    """What the caller's tenant has not dismissed yet (every tenant's for platform administrators)."""
    manager = notification_manager(page.hub)
    if manager is None:
        return []
    scope = page.scope
    return [item for item in manager.all(scope.tenant_filter) if scope.sees(item.tenant_id)][:SHOWN]
