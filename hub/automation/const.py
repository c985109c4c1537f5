"""Names shared by the automation engine's modules: the domain, configuration keys, limits."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "automation"
AUTOMATIONS_FILE: Final = "automations.yaml"

CONF_ID: Final = "id"
CONF_ALIAS: Final = "alias"
CONF_DESCRIPTION: Final = "description"
CONF_TENANT: Final = "tenant"
CONF_MODE: Final = "mode"
CONF_MAX: Final = "max"
CONF_MAX_EXCEEDED: Final = "max_exceeded"
CONF_TRIGGERS: Final = "triggers"
CONF_CONDITIONS: Final = "conditions"
CONF_ACTIONS: Final = "actions"
CONF_VARIABLES: Final = "variables"
CONF_TRIGGER_VARIABLES: Final = "trigger_variables"
CONF_ENABLED: Final = "enabled"
CONF_USE_BLUEPRINT: Final = "use_blueprint"
CONF_PLATFORM: Final = "platform"

MODE_SINGLE: Final = "single"
MODE_RESTART: Final = "restart"
MODE_QUEUED: Final = "queued"
MODE_PARALLEL: Final = "parallel"
MODES: Final = (MODE_SINGLE, MODE_RESTART, MODE_QUEUED, MODE_PARALLEL)
DEFAULT_MAX: Final = 10

#: Traces kept per automation, newest first.
TRACE_RUNS: Final = 5
#: ``repeat: count`` above this is refused; ``while``/``until``/``for_each`` loops stop with an error after it.
MAX_REPEAT: Final = 10_000

ATTR_ID: Final = "id"
ATTR_FRIENDLY_NAME: Final = "friendly_name"
ATTR_LAST_TRIGGERED: Final = "last_triggered"
ATTR_MODE: Final = "mode"
ATTR_CURRENT: Final = "current"

SERVICE_TRIGGER: Final = "trigger"
SERVICE_TURN_ON: Final = "turn_on"
SERVICE_TURN_OFF: Final = "turn_off"
SERVICE_TOGGLE: Final = "toggle"
SERVICE_RELOAD: Final = "reload"

#: Fired after each (re)load, with the ids loaded and the errors of those refused.
EVENT_AUTOMATION_RELOADED: Final = "automation_reloaded"
#: Fired when a run starts: ``name``, ``entity_id``, ``source`` (the trigger's description).
EVENT_AUTOMATION_TRIGGERED: Final = "automation_triggered"
