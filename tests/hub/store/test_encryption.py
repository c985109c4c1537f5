"""Device credentials in config entries are encrypted at rest, with a key kept outside the database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import voluptuous as vol
from cryptography.fernet import Fernet
from sqlalchemy import select

from hub.config_entries import ConfigEntry, EntryState
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.integration import Integration
from hub.store.encryption import KEY_ENV, KEY_FILE, FieldCipher, UndecryptableField
from hub.store.models import ConfigEntryRow
from hub.testing import HubFactory


class Camera:
    """A test integration whose entries carry a password and an API token."""

    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []

    async def setup_entry(self, hub: Hub, entry: ConfigEntry) -> None:
        self.seen.append(dict(entry.data))

    @hookimpl
    def integration(self) -> Integration:
        return Integration(
            domain="vault_cam",
            name="Camera with secrets",
            config_entry_schema=vol.Schema({vol.Required("host"): str, "password": str, "token": str}),
            async_setup_entry=self.setup_entry,
            secret_fields=frozenset({"password", "token"}),
        )


async def _stored_data(hub: Hub, entry_id: str) -> dict[str, object]:
    async with hub.database.session() as session:
        row = (await session.scalars(select(ConfigEntryRow).where(ConfigEntryRow.id == entry_id))).one()
    return dict(row.data)


async def test_secret_fields_are_stored_encrypted_and_read_back_in_clear(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    camera = Camera()
    config_dir = tmp_path / "config"
    hub = await hub_factory(plugins=[camera], config_dir=config_dir)
    data = {"host": "127.0.0.1", "password": "s3cret!", "token": "tok-123"}

    entry = await hub.config_entries.add("vault_cam", data, tenant_id=None)

    stored = await _stored_data(hub, entry.entry_id)
    assert stored["host"] == "127.0.0.1"
    assert "s3cret!" not in repr(stored) and "tok-123" not in repr(stored)
    assert entry.data == data and camera.seen == [data]
    key_file = config_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    await hub.stop()
    again = await hub_factory(plugins=[camera], config_dir=config_dir)

    assert again.config_entries.get(entry.entry_id).data == data  # type: ignore[union-attr]
    assert camera.seen[-1] == data


async def test_a_changed_key_fails_the_entry_with_the_field_named(
    hub_factory: HubFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    camera = Camera()
    config_dir = tmp_path / "config"
    hub = await hub_factory(plugins=[camera], config_dir=config_dir)
    entry = await hub.config_entries.add("vault_cam", {"host": "127.0.0.1", "password": "pw"}, tenant_id=None)
    await hub.stop()

    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())
    again = await hub_factory(plugins=[camera], config_dir=config_dir)

    reloaded = again.config_entries.get(entry.entry_id)
    assert reloaded is not None and reloaded.state is EntryState.SETUP_ERROR
    assert "'password'" in (reloaded.reason or "") and KEY_ENV in (reloaded.reason or "")
    assert len(camera.seen) == 1  # never set up with a sealed password


def test_keys_rotate_through_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sealed = FieldCipher([old]).seal({"password": "pw", "host": "h"}, {"password"})

    monkeypatch.setenv(KEY_ENV, f"{new.decode()},{old.decode()}")
    rotated = FieldCipher.for_config_dir(tmp_path)

    assert rotated.open(sealed) == {"password": "pw", "host": "h"}
    assert not (tmp_path / KEY_FILE).exists()  # the environment wins; no key file is made
    with pytest.raises(UndecryptableField):
        FieldCipher([new]).open(sealed)


def test_none_and_sealed_values_are_left_alone() -> None:
    cipher = FieldCipher([Fernet.generate_key()])
    once = cipher.seal({"password": "pw", "token": None}, {"password", "token"})

    assert cipher.seal(once, {"password", "token"}) == once
    assert once["token"] is None
