"""Names the demo integration shares between its modules: domain, configuration keys, event and people."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "demo"
MANUFACTURER: Final = "Demo"

CONF_TENANT: Final = "tenant"
CONF_INTERVAL: Final = "interval"

DEFAULT_TENANT: Final = "demo"
DEFAULT_TENANT_NAME: Final = "Demo School"
DEFAULT_INTERVAL: Final = 5.0

SERVICE_OPEN_DOOR: Final = "open_door"
ATTR_DURATION: Final = "duration"

#: A door re-locks this long after it opened (shorter when the simulation runs faster than every 1.5 s).
RELOCK_SECONDS: Final = 3.0
#: The same seed every start, so a demo behaves alike from one run to the next.
SEED: Final = 20240907


PEOPLE: Final = ("Ana Ruiz", "Ben Okafor", "Chen Wei", "Dana Novak", "Eli Haddad", "Fatima Zahra", "Visitor")
