"""Constants shared by every module of the TM20 integration (protocol, server, manager, API, pages)."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "tm20"
MANUFACTURER: Final = "TM20"
DEFAULT_PORT: Final = 7788
PING_INTERVAL: Final = 25.0
OFFLINE_TIMEOUT: Final = 120.0
COMMAND_TIMEOUT: Final = 15.0
MAX_FRAME: Final = 10 * 1024 * 1024
# Commands that wipe data on the terminal: they need ``confirm: true`` and are never retried automatically.
DESTRUCTIVE_COMMANDS: Final = frozenset({"cleanuser", "initsys", "cleanlog", "cleanadmin"})
