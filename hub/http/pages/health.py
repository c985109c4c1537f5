"""The health page (``/health``): the summary, then every watched device connection with its level,
response time, uptime, failures and back-off, with reconnect and check-now buttons for operators.
"""

from __future__ import annotations

from aiohttp import web

from hub.http.pages.rendering import Page, Rendered, page_handler

_LEVEL_ORDER = {"auth_failed": 0, "offline": 1, "poor": 2, "fair": 3, "good": 4, "excellent": 5}


@page_handler(nav="/health")
async def health(request: web.Request, page: Page) -> Rendered:
    scope = page.scope
    devices = {device.id: device for device in scope.devices()}
    rows = sorted(
        scope.health_devices(),
        key=lambda health: (_LEVEL_ORDER.get(str(health.level), 6), health.name.lower()),  # trouble first
    )
    return Rendered(
        "health.html",
        {"title": page.t("health.title"), "summary": scope.health_summary(), "rows": rows, "devices": devices},
    )
