"""Identifiers for rows the hub creates: random, URL-safe, 32 hex characters."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return uuid.uuid4().hex
