"""Lenient readers for ISAPI values: firmware sends numbers as strings, strings as numbers, one object or a list.

Shared by the event parser and the clients so every field is read the same way."""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str | None:
    """A stripped string, or None for missing, empty, or structured values."""
    if value is None or isinstance(value, (dict, list)):
        return None
    result = str(value).strip()
    return result or None


def integer(value: Any) -> int | None:
    """An int from an int or a decimal string (``"12"``, ``"-1"``); None otherwise (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            return int(stripped)
    return None


def as_list(value: Any) -> list[Any]:
    """ISAPI puts one object or a list of them in the same place (and XML gives a list only when repeated)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
