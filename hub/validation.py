"""Voluptuous helpers shared by service calls, configuration and the API: errors that name their field."""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol

_SLUG_INVALID = re.compile(r"[^a-z0-9_]+")


def field_path(path: list[Any]) -> str:
    """``['doors', 0, 'name']`` becomes ``doors[0].name``; the root is ``<root>``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


def invalid_fields(error: vol.Invalid) -> dict[str, str]:
    """Map each failing field of a voluptuous error to a readable reason."""
    errors = error.errors if isinstance(error, vol.MultipleInvalid) else [error]
    fields: dict[str, str] = {}
    for item in errors:
        message = item.error_message
        if message == "extra keys not allowed":
            message = "unknown key"
        elif message == "required key not provided":
            message = "required"
        fields[field_path(list(item.path))] = message
    return fields


def slugify(text: str) -> str:
    """A name as an object id: ``Front Door (main)`` becomes ``front_door_main``."""
    slug = _SLUG_INVALID.sub("_", text.lower()).strip("_")
    return re.sub(r"_+", "_", slug) or "unnamed"
