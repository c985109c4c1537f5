"""The integrations page (``/integrations``): loaded integrations, the tenant's config entries with their state,
and an "add" form generated in the browser from the integration's config-entry schema.

The schema is serialised with voluptuous-serialize (the same shape ``GET /api/integrations`` gives), so the form
offers exactly the fields the hub will validate; a 400 answer's ``fields`` map is shown next to each field.
"""

from __future__ import annotations

import json
from typing import Any

import voluptuous_serialize
from aiohttp import web

from hub.http import dumps
from hub.http.pages.rendering import Page, Rendered, page_handler


def entry_form_schema(schema: Any) -> list[dict[str, Any]] | None:
    """The fields of a config-entry schema for the form; None when it cannot be serialised (a custom validator)."""
    if schema is None:
        return []
    try:
        fields = voluptuous_serialize.convert(schema)
    except (ValueError, TypeError):
        return None
    return fields if isinstance(fields, list) else None


@page_handler(nav="/integrations")
async def integrations(request: web.Request, page: Page) -> Rendered:
    hub = page.hub
    loaded = sorted(hub.plugins.integrations.values(), key=lambda integration: integration.name.lower())
    forms = {
        integration.domain: {"name": integration.name, "fields": fields}
        for integration in loaded
        if integration.async_setup_entry is not None
        and (fields := entry_form_schema(integration.config_entry_schema)) is not None
    }
    names = {integration.domain: integration.name for integration in loaded}
    entries = sorted(page.scope.entries(), key=lambda entry: (names.get(entry.domain, entry.domain), entry.title))
    return Rendered(
        "integrations.html",
        {
            "title": page.t("integrations.title"),
            "integrations": loaded,
            "failures": dict(hub.plugins.failures),
            "entries": entries,
            "names": names,
            "forms_json": json.loads(dumps(forms)),
        },
    )
