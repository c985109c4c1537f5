"""Administrators' pages: ``/users`` (users of the tenant and API keys) and ``/audit`` (the audit log, paged).

Both read the tenant through ``scope.tenant_filter`` (None only for platform administrators, who see all).
"""

from __future__ import annotations

from aiohttp import web

from hub.auth.scope import Role
from hub.http.pages.rendering import Page, Rendered, page_handler

AUDIT_PAGE_SIZE = 50


def assignable_roles(page: Page) -> list[str]:
    """Roles this administrator may hand out: owners (and platform administrators) make admins and owners."""
    roles = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
    if page.can(Role.OWNER):
        roles.append(Role.OWNER)
    return [str(role) for role in roles]


@page_handler(nav="/users", role=Role.ADMIN)
async def users(request: web.Request, page: Page) -> Rendered:
    auth, tenant_id = page.hub.auth, page.scope.tenant_filter
    people = sorted(auth.users(tenant_id=tenant_id), key=lambda user: user.username.lower())
    keys = sorted(auth.api_keys(tenant_id=tenant_id), key=lambda key: key.name.lower())
    return Rendered(
        "users.html",
        {"title": page.t("users.title"), "users": people, "api_keys": keys, "roles": assignable_roles(page)},
    )


@page_handler(nav="/audit", role=Role.ADMIN)
async def audit(request: web.Request, page: Page) -> Rendered:
    before_text = request.query.get("before", "")
    try:
        before = float(before_text) if before_text else None
    except ValueError:
        before = None
    action = request.query.get("action") or None
    entries = await page.hub.auth.audit.entries(
        tenant_id=page.scope.tenant_filter, limit=AUDIT_PAGE_SIZE + 1, before=before, action=action
    )
    more = len(entries) > AUDIT_PAGE_SIZE
    entries = entries[:AUDIT_PAGE_SIZE]
    return Rendered(
        "audit.html",
        {
            "title": page.t("audit.title"),
            "entries": entries,
            "older": entries[-1].time if more and entries else None,
            "paged": before is not None,
            "action": action or "",
        },
    )
