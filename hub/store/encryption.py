"""Device credentials encrypted at rest: a camera's password is never in the database in clear.

The key lives outside the database (a database dump alone reveals no password): ``GATEHOUSE_SECRET_KEY`` when
set (comma-separated Fernet keys, the first one encrypts, all of them decrypt: that is how a key is rotated),
otherwise ``.secret_key`` in the configuration directory, made with mode 0600 on the very first start. Hub
nodes that share one PostgreSQL must share the key.

An encrypted value is stored as ``{"$encrypted": "<Fernet token>"}`` in place of the clear one.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hub.exceptions import HubError

KEY_ENV = "GATEHOUSE_SECRET_KEY"
KEY_FILE = ".secret_key"
MARKER = "$encrypted"


class UndecryptableField(HubError):
    """A stored secret that no configured key opens: the key file or ``GATEHOUSE_SECRET_KEY`` changed."""

    def __init__(self, field: str) -> None:
        super().__init__(
            f"cannot decrypt {field!r}: it was encrypted with another secret key "
            f"(restore {KEY_FILE} or {KEY_ENV}, or enter the value again)"
        )
        self.field = field


class FieldCipher:
    """Encrypts and decrypts named fields of a JSON-like mapping."""

    __slots__ = ("_fernet",)

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def for_config_dir(cls, config_dir: Path) -> FieldCipher:
        """The hub's cipher: keys from the environment, else from the key file (created when missing)."""
        if configured := os.environ.get(KEY_ENV, "").strip():
            return cls([key.strip().encode() for key in configured.split(",") if key.strip()])
        path = config_dir / KEY_FILE
        if not path.exists():
            config_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(Fernet.generate_key())
        return cls([path.read_bytes().strip()])

    def seal(self, data: Mapping[str, Any], fields: Collection[str]) -> dict[str, Any]:
        """``data`` with the values of ``fields`` encrypted (None and already encrypted values left alone)."""
        sealed = dict(data)
        for field in fields:
            value = sealed.get(field)
            if value is None or is_sealed(value):
                continue
            sealed[field] = {MARKER: self._fernet.encrypt(str(value).encode()).decode()}
        return sealed

    def open(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with every encrypted value decrypted; UndecryptableField names the first one that fails."""
        opened = dict(data)
        for field, value in data.items():
            if is_sealed(value):
                try:
                    opened[field] = self._fernet.decrypt(value[MARKER].encode()).decode()
                except (InvalidToken, ValueError, TypeError):
                    raise UndecryptableField(field) from None
        return opened


def is_sealed(value: object) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(MARKER), str)
