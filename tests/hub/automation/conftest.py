"""Shared helpers for the automation engine's tests: write automations.yaml, reload, record service calls."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from hub.automation.errors import AutomationError
from hub.core import Hub, ServiceCall
from hub.tenants import Tenant


class Calls(list[ServiceCall]):
    """Every call of the ``test.record`` service, in order."""

    def data(self) -> list[dict[str, object]]:
        return [dict(call.data) for call in self]


@pytest.fixture
def calls(hub: Hub) -> Calls:
    """Registers ``test.record`` (and ``test.fail``, which raises) on the hub; returns the recorded calls."""
    recorded = Calls()

    def record(call: ServiceCall) -> None:
        recorded.append(call)

    def fail(call: ServiceCall) -> None:
        raise RuntimeError("the device said no")

    hub.services.register("test", "record", record)
    hub.services.register("test", "fail", fail)
    return recorded


@pytest.fixture
def load(hub: Hub, tenant: Tenant, calls: Calls) -> Callable[[str], object]:
    """``await load(yaml)``: write automations.yaml (dedented) and reload; returns the errors."""

    async def write_and_reload(text: str) -> list[AutomationError]:
        (hub.config_dir / "automations.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        return await hub.automations.reload()

    return write_and_reload
