"""One automation: its triggers attached while enabled, its runs bounded by its mode, its state and traces.

Modes: ``single`` ignores a trigger while a run is in progress, ``restart`` stops the current run and starts
again, ``queued`` runs one after the other (at most ``max`` waiting or running), ``parallel`` runs at once (at
most ``max``). A trigger beyond that is logged at the ``max_exceeded`` level (once per burst) and dropped.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
from typing import Any

from hub.auth.scope import Caller, Role, TenantScope
from hub.automation.conditions import check_all
from hub.automation.const import (
    ATTR_CURRENT,
    ATTR_FRIENDLY_NAME,
    ATTR_ID,
    ATTR_LAST_TRIGGERED,
    ATTR_MODE,
    DOMAIN,
    EVENT_AUTOMATION_TRIGGERED,
    MODE_PARALLEL,
    MODE_QUEUED,
    MODE_RESTART,
    TRACE_RUNS,
)
from hub.automation.errors import AutomationError, ScriptStopped
from hub.automation.schema import AutomationConfig
from hub.automation.script import ConditionFailed, ScriptRun, describe_error
from hub.automation.templates import helpers, render
from hub.automation.trace import Trace
from hub.automation.triggers import Detach, TriggerPlatforms, attach_all
from hub.automation.zone import hub_zone
from hub.core import Context, Hub
from hub.validation import slugify

_LOGGER = logging.getLogger(__name__)


def entity_id_for(automation_id: str) -> str:
    return f"{DOMAIN}.{slugify(automation_id)}"


class Automation:
    """A loaded automation. Public: id, alias, description, tenant_id, mode, max, enabled, entity_id,
    last_triggered, config (as written), blueprint_path, as_dict()."""

    def __init__(
        self,
        hub: Hub,
        platforms: TriggerPlatforms,
        config: AutomationConfig,
        traces: collections.deque[Trace] | None = None,
        last_triggered: dt.datetime | None = None,
    ) -> None:
        self.hub = hub
        self._platforms = platforms
        self._config = config
        self.entity_id = entity_id_for(config.id)
        self.last_triggered = last_triggered
        self._traces: collections.deque[Trace] = traces if traces is not None else collections.deque(maxlen=TRACE_RUNS)
        self._runs: dict[asyncio.Task[None], Trace] = {}
        self._queue_lock = asyncio.Lock()
        self._detach: Detach | None = None
        self._exceeded_logged = False
        caller = Caller(
            user_id=None, tenant_id=config.tenant_id, role=Role.OPERATOR, name=f"automation {config.id}", via="system"
        )
        self.scope = TenantScope(hub, caller)
        self._helpers = helpers(hub, config.tenant_id, hub_zone(hub))
        self._active = False  # loaded and started; a stopped (replaced, removed) one writes no state
        self.error: AutomationError | None = None  # why the triggers could not be attached, when they could not

    # ---------------------------------------------------------------------------------------- public

    id = property(lambda self: self._config.id)
    alias = property(lambda self: self._config.alias)
    description = property(lambda self: self._config.description)
    tenant_id = property(lambda self: self._config.tenant_id)
    mode = property(lambda self: self._config.mode)
    max = property(lambda self: self._config.max)
    enabled = property(lambda self: self._config.enabled)
    blueprint_path = property(lambda self: self._config.blueprint_path)

    @property
    def config(self) -> dict[str, Any]:
        """The configuration as written in automations.yaml."""
        return self._config.raw

    @property
    def validated(self) -> AutomationConfig:
        return self._config

    @property
    def current(self) -> int:
        return len(self._runs)

    def traces(self) -> list[Trace]:
        return list(reversed(self._traces))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alias": self.alias,
            "description": self.description,
            "tenant_id": self.tenant_id,
            "mode": self.mode,
            "max": self.max,
            "enabled": self.enabled,
            "entity_id": self.entity_id,
            "state": "on" if self.enabled else "off",
            "current": self.current,
            "last_triggered": self.last_triggered.isoformat() if self.last_triggered else None,
            "blueprint_path": self.blueprint_path,
            "config": self.config,
            "error": self.error.as_dict() if self.error else None,
        }

    # ------------------------------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Write the state and, when enabled, attach the triggers (an attach failure is kept in ``error``)."""
        self._active = True
        if self.enabled and self._detach is None:
            try:
                self._detach = attach_all(
                    self.hub,
                    self._platforms,
                    self._config.triggers,
                    automation_id=self.id,
                    tenant_id=self.tenant_id,
                    scope=self.scope,
                    fire=self._triggered,
                )
            except Exception as error:
                reason = describe_error(error)
                self.error = AutomationError(self.id, "triggers", reason, tenant_id=self.tenant_id)
        self.write_state()

    async def stop(self, *, remove_state: bool = False) -> None:
        """Detach the triggers and cancel the runs in progress (their traces end ``aborted``)."""
        self._active = False
        if self._detach is not None:
            self._detach()
            self._detach = None
        current = asyncio.current_task()  # a run that turns its own automation off finishes its actions
        tasks = [task for task in self._runs if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if remove_state:
            self.hub.states.remove(self.entity_id)

    def write_state(self) -> None:
        attributes = {
            ATTR_ID: self.id,
            ATTR_FRIENDLY_NAME: self.alias,
            ATTR_LAST_TRIGGERED: self.last_triggered.isoformat() if self.last_triggered else None,
            ATTR_MODE: self.mode,
            ATTR_CURRENT: self.current,
        }
        self.hub.states.set(self.entity_id, "on" if self.enabled else "off", attributes, tenant_id=self.tenant_id)

    # ------------------------------------------------------------------------------------------- runs

    def _triggered(self, trigger: dict[str, Any], context: Context | None) -> None:
        """A trigger fired: start a run unless the mode says no. Runs on the loop, never awaits."""
        self.start_run({"trigger": trigger}, context, skip_condition=False)

    def start_run(self, variables: dict[str, Any], parent: Context | None, *, skip_condition: bool) -> Trace | None:
        """Start a run as a task; None when the mode refuses it (logged at ``max_exceeded``)."""
        if not self._admit():
            return None
        trigger = variables.get("trigger") or {}
        description = str(trigger.get("description") or trigger.get("platform") or "manual")
        context = Context(tenant_id=self.tenant_id, parent_id=parent.id if parent is not None else None)
        trace = Trace(self.id, self.tenant_id, description, variables, context)
        task = self.hub.create_background_task(self._run(variables, trace, skip_condition), f"automation {self.id}")
        self._runs[task] = trace
        task.add_done_callback(self._run_done)
        self._traces.append(trace)
        return trace

    def _admit(self) -> bool:
        mode = self.mode
        if mode == MODE_RESTART:
            for task in list(self._runs):
                task.cancel()
            return True
        allowed = self.current < self.max if mode in (MODE_PARALLEL, MODE_QUEUED) else not self._runs
        if allowed:
            self._exceeded_logged = False
            return True
        level = self._config.max_exceeded_level
        if level is not None and not self._exceeded_logged:
            self._exceeded_logged = True
            _LOGGER.log(
                level, "Automation %s: already running (mode %s, max %s): trigger dropped", self.id, mode, self.max
            )
        return False

    def _trigger_config_variables(self, variables: dict[str, Any]) -> dict[str, Any]:
        """The ``variables`` of the trigger that fired (rendered with the trigger's own variables)."""
        idx = (variables.get("trigger") or {}).get("idx")
        triggers = self._config.triggers
        if isinstance(idx, str) and idx.isdigit() and int(idx) < len(triggers):
            found: dict[str, Any] = triggers[int(idx)].get("variables") or {}
            return found
        return {}

    def _run_done(self, task: asyncio.Task[None]) -> None:
        trace = self._runs.pop(task, None)
        if trace is not None and trace.result is None:
            trace.finished("aborted", error="cancelled")
        if self.hub.is_running and self._active:
            self.write_state()

    async def _run(self, variables: dict[str, Any], trace: Trace, skip_condition: bool) -> None:
        if self.mode == MODE_QUEUED:
            # _runs counts this run already; while it waits for the lock it is "queued", then "running"
            async with self._queue_lock:
                await self._execute(variables, trace, skip_condition)
        else:
            await self._execute(variables, trace, skip_condition)

    async def _execute(self, variables: dict[str, Any], trace: Trace, skip_condition: bool) -> None:
        run = ScriptRun(
            self.hub,
            automation_id=self.id,
            tenant_id=self.tenant_id,
            scope=self.scope,
            platforms=self._platforms,
            helpers=self._helpers,
            variables={},
            trace=trace,
            context=trace.context,
        )
        try:
            state = self.hub.states.get(self.entity_id)
            run.variables.update(
                {"this": state.as_dict() if state is not None else None, **self._config.trigger_variables, **variables}
            )
            for name, value in self._trigger_config_variables(variables).items():
                run.variables[name] = render(value, run.template_variables())
            for name, value in self._config.variables.items():
                run.variables[name] = render(value, run.template_variables())
            trace.variables = dict(run.variables)
            conditions = self._config.conditions
            if not skip_condition and conditions and not check_all(conditions, run, "condition"):
                trace.finished("stopped", stop_reason="conditions not met")
                return
            self.last_triggered = dt.datetime.now(dt.UTC)
            if self._active:
                self.write_state()
            self.hub.bus.fire(
                EVENT_AUTOMATION_TRIGGERED,
                {"name": self.alias, "entity_id": self.entity_id, "source": trace.trigger},
                context=trace.context,
                tenant_id=self.tenant_id,
            )
            await run.sequence(self._config.actions, "action")
        except ScriptStopped as stop:
            if stop.error:
                trace.finished("error", error=stop.reason, stop_reason=stop.reason)
            else:
                trace.finished("stopped", stop_reason=stop.reason)
        except ConditionFailed:
            trace.finished("stopped", stop_reason="condition failed")
        except asyncio.CancelledError:
            trace.finished("aborted", error="cancelled")
            raise
        except Exception as error:
            reason = describe_error(error)
            trace.finished("error", error=reason)
            _LOGGER.warning("Automation %s failed: %s", self.id, reason)
        else:
            trace.finished("finished")
