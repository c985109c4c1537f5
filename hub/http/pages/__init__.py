"""The dashboard's pages, one module per page (or pair of pages), and the routes that serve them.

``rendering`` holds what every page shares (session check, error pages, context), ``formatting`` the words
and numbers the templates and scripts agree on.
"""

from __future__ import annotations

from aiohttp import web

from hub.http.pages import admin, automations, cameras, devices, events, health, integrations, overview, session


def page_routes() -> list[web.RouteDef]:
    """Every page; ``/devices/claim`` comes before ``/devices/{device_id}``, which would otherwise match it."""
    return [
        web.get("/", overview.overview, name="overview"),
        web.get("/login", session.login, name="login"),
        web.get("/onboarding", session.onboarding, name="onboarding"),
        web.get("/devices/claim", devices.claim, name="claim"),
        web.get("/devices/{device_id}", devices.device_detail, name="device"),
        web.get("/events", events.events, name="events"),
        web.get("/health", health.health, name="health"),
        web.get("/cameras", cameras.cameras, name="cameras"),
        web.get(cameras.CAMERA_PATH, cameras.camera_detail, name="camera"),
        web.get("/automations", automations.automation_list, name="automations"),
        web.get("/automations/new", automations.automation_new, name="automation_new"),
        web.get("/automations/new/yaml", automations.automation_new_yaml, name="automation_new_yaml"),
        web.get("/automations/{automation_id}", automations.automation_detail, name="automation"),
        web.get("/automations/{automation_id}/traces", automations.automation_traces, name="automation_traces"),
        web.get("/integrations", integrations.integrations, name="integrations"),
        web.get("/users", admin.users, name="users"),
        web.get("/audit", admin.audit, name="audit"),
    ]
