"""Config entries: validation, storage, life cycle, and isolation of integrations that fail."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import voluptuous as vol

from hub.config_entries import ConfigEntry, EntryState, InvalidConfigEntry, UnknownIntegration
from hub.core import Hub
from hub.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from hub.hookspecs import hookimpl
from hub.integration import Integration
from hub.testing import HubFactory


class FlakyDoor:
    """A test integration whose set-up outcome the test decides, entry by entry."""

    def __init__(self) -> None:
        self.outcomes: list[BaseException | None] = []
        self.setups = 0
        self.unloads = 0
        self.closed = 0

    async def setup_entry(self, hub: Hub, entry: ConfigEntry) -> None:
        self.setups += 1
        entry.on_unload(self._close)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        entry.runtime_data = f"connection to {entry.data['host']}"

    async def unload_entry(self, hub: Hub, entry: ConfigEntry) -> None:
        self.unloads += 1

    def _close(self) -> None:
        self.closed += 1

    @hookimpl
    def integration(self) -> Integration:
        return Integration(
            domain="flaky",
            name="Flaky door",
            config_entry_schema=vol.Schema({vol.Required("host"): str, vol.Optional("port", default=80): int}),
            async_setup_entry=self.setup_entry,
            async_unload_entry=self.unload_entry,
        )


@pytest.fixture
def flaky() -> FlakyDoor:
    return FlakyDoor()


@pytest.fixture
async def hub_with_flaky(hub_factory: HubFactory, flaky: FlakyDoor) -> Hub:
    return await hub_factory(plugins=[flaky])


async def test_an_entry_is_validated_stored_and_loaded(hub_with_flaky: Hub, flaky: FlakyDoor) -> None:
    tenant = await hub_with_flaky.tenants.create("school")

    entry = await hub_with_flaky.config_entries.add("flaky", {"host": "127.0.0.1"}, tenant_id=tenant.id)

    assert entry.state is EntryState.LOADED
    assert dict(entry.data) == {"host": "127.0.0.1", "port": 80}
    assert entry.runtime_data == "connection to 127.0.0.1"
    assert hub_with_flaky.config_entries.all(tenant_id=tenant.id) == [entry]


async def test_bad_entry_data_names_the_fields(hub_with_flaky: Hub, flaky: FlakyDoor) -> None:
    with pytest.raises(InvalidConfigEntry) as caught:
        await hub_with_flaky.config_entries.add("flaky", {"port": "eighty"}, tenant_id=None)

    assert caught.value.fields == {"host": "required", "port": "expected int"}
    assert flaky.setups == 0
    assert hub_with_flaky.config_entries.all() == []


async def test_an_unknown_integration_is_refused(hub_with_flaky: Hub) -> None:
    with pytest.raises(UnknownIntegration, match="nope"):
        await hub_with_flaky.config_entries.add("nope", {}, tenant_id=None)


async def test_a_crashing_setup_is_isolated_and_logged_once(
    hub_with_flaky: Hub, flaky: FlakyDoor, caplog: pytest.LogCaptureFixture
) -> None:
    flaky.outcomes = [ZeroDivisionError("bug in the integration")]

    with caplog.at_level(logging.ERROR):
        entry = await hub_with_flaky.config_entries.add("flaky", {"host": "a"}, tenant_id=None)

    assert entry.state is EntryState.SETUP_ERROR
    assert entry.reason == "ZeroDivisionError: bug in the integration"
    assert caplog.text.count("bug in the integration") == 1
    assert flaky.closed == 1  # what the failed set-up opened was released
    assert hub_with_flaky.is_running


async def test_a_device_not_ready_is_retried_with_back_off(hub_with_flaky: Hub, flaky: FlakyDoor) -> None:
    flaky.outcomes = [ConfigEntryNotReady("no route to host"), ConnectionRefusedError("refused")]

    entry = await hub_with_flaky.config_entries.add("flaky", {"host": "a"}, tenant_id=None)

    assert (entry.state, entry.reason, entry.retry_delay) == (EntryState.SETUP_RETRY, "no route to host", 5.0)
    assert entry._backoff.delay_for(2) == 10.0
    assert [entry._backoff.delay_for(n) for n in range(1, 8)] == [5, 10, 20, 40, 80, 80, 80]

    # Let the retries come quickly: the delays are the table's, the timing is the test's.
    entry._retry_handle.cancel()  # type: ignore[union-attr]
    assert await hub_with_flaky.config_entries.setup(entry.entry_id) is False
    assert (entry.state, entry.retry_delay) == (EntryState.SETUP_RETRY, 10.0)
    entry._retry_handle.cancel()  # type: ignore[union-attr]
    assert await hub_with_flaky.config_entries.setup(entry.entry_id) is True
    assert (entry.state, entry.retry_delay, entry.reason) == (EntryState.LOADED, None, None)


async def test_a_scheduled_retry_really_runs(
    hub_with_flaky: Hub, flaky: FlakyDoor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hub.config_entries.ENTRY_RETRY_DELAYS", (0.01,))
    flaky.outcomes = [ConfigEntryNotReady("booting"), ConfigEntryNotReady("still booting")]

    entry = await hub_with_flaky.config_entries.add("flaky", {"host": "a"}, tenant_id=None)
    for _ in range(200):
        if entry.state is EntryState.LOADED:
            break
        await asyncio.sleep(0.01)

    assert entry.state is EntryState.LOADED
    assert flaky.setups == 3


async def test_refused_credentials_are_not_retried(hub_with_flaky: Hub, flaky: FlakyDoor) -> None:
    flaky.outcomes = [ConfigEntryAuthFailed("wrong password")]

    entry = await hub_with_flaky.config_entries.add("flaky", {"host": "a"}, tenant_id=None)

    assert entry.state is EntryState.SETUP_ERROR
    assert entry.reason == "authentication failed: wrong password"
    assert entry._retry_handle is None


async def test_unload_reload_and_remove(hub_with_flaky: Hub, flaky: FlakyDoor) -> None:
    entry = await hub_with_flaky.config_entries.add("flaky", {"host": "a"}, tenant_id=None)

    assert await hub_with_flaky.config_entries.unload(entry.entry_id)
    assert (entry.state, entry.runtime_data, flaky.unloads, flaky.closed) == (EntryState.NOT_LOADED, None, 1, 1)

    assert await hub_with_flaky.config_entries.reload(entry.entry_id)
    assert entry.state is EntryState.LOADED

    await hub_with_flaky.config_entries.update(entry.entry_id, data={"host": "b"})
    assert entry.runtime_data == "connection to b"

    await hub_with_flaky.config_entries.remove(entry.entry_id)
    assert hub_with_flaky.config_entries.get(entry.entry_id) is None
    assert flaky.unloads == 3


async def test_entries_are_set_up_again_after_a_restart(
    database_url: str, hub_factory: HubFactory, flaky: FlakyDoor, tmp_path: Path
) -> None:
    config_dir = tmp_path / "persist"
    first = await hub_factory(plugins=[flaky], database_url=database_url, config_dir=config_dir)
    tenant = await first.tenants.create("school")
    entry = await first.config_entries.add("flaky", {"host": "a"}, tenant_id=tenant.id, title="Gate")
    await first.stop()
    assert flaky.unloads == 1

    second = await hub_factory(plugins=[flaky], database_url=database_url, config_dir=config_dir)
    again = second.config_entries.get(entry.entry_id)

    assert again is not None
    assert (again.title, again.tenant_id, dict(again.data), again.state) == (
        "Gate",
        tenant.id,
        {"host": "a", "port": 80},
        EntryState.LOADED,
    )


async def test_an_entry_whose_integration_is_gone_is_marked_not_crashed(
    hub_factory: HubFactory, flaky: FlakyDoor, tmp_path: Path
) -> None:
    config_dir = tmp_path / "persist"
    first = await hub_factory(plugins=[flaky], config_dir=config_dir)
    entry = await first.config_entries.add("flaky", {"host": "a"}, tenant_id=None)
    await first.stop()

    second = await hub_factory(config_dir=config_dir)  # the plugin was uninstalled

    assert second.config_entries.get(entry.entry_id).state is EntryState.INTEGRATION_MISSING  # type: ignore[union-attr]
