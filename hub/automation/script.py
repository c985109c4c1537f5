"""Running actions: one ``ScriptRun`` per automation run, walking the validated actions and tracing each step.

Every action is awaited on the loop; loops (``repeat``) yield to the loop on each iteration and stop with an
error after ``MAX_REPEAT`` iterations, so a runaway automation never stalls the bus. Service calls carry a
Context whose tenant is the automation's: ``authorize_service_call`` refuses other tenants' entities.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.auth.scope import TenantScope
from hub.automation.actions import action_type
from hub.automation.conditions import check, check_all, template_true
from hub.automation.const import MAX_REPEAT
from hub.automation.errors import ScriptStopped, TemplateError
from hub.automation.templates import Template, TenantStates, render
from hub.automation.trace import Trace, TraceStep
from hub.automation.triggers import TriggerPlatforms, attach_all
from hub.automation.validators import render_duration
from hub.core import EVENT_STATE_CHANGED, Context, Event, Hub


class ConditionFailed(Exception):
    """A ``condition`` action did not hold: the run stops quietly (result ``stopped``)."""


class ScriptRun:
    """The state of one run: variables, the trace, the context its service calls and events carry."""

    def __init__(
        self,
        hub: Hub,
        *,
        automation_id: str,
        tenant_id: str,
        scope: TenantScope,
        platforms: TriggerPlatforms,
        helpers: dict[str, Any],
        variables: dict[str, Any],
        trace: Trace,
        context: Context,
    ) -> None:
        self.hub = hub
        self.automation_id = automation_id
        self.tenant_id = tenant_id
        self.scope = scope
        self.platforms = platforms
        self.helpers = helpers
        self.variables = variables
        self.trace = trace
        self.context = context

    # --------------------------------------------------------------------------- ConditionEnv protocol

    @property
    def states(self) -> TenantStates:
        states: TenantStates = self.helpers["states"]
        return states

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.helpers["_zone"])

    def template_variables(self) -> dict[str, Any]:
        return {**self.helpers, **self.variables}

    # ------------------------------------------------------------------------------------------ running

    def render(self, value: Any) -> Any:
        return render(value, self.template_variables()) if value is not None else None

    async def sequence(self, actions: list[dict[str, Any]], path: str) -> None:
        for index, action in enumerate(actions):
            await self.action(action, f"{path}/{index}")

    async def action(self, action: dict[str, Any], path: str) -> None:
        step = self.trace.step(path)
        if action.get("enabled") is False:
            step.result = {"enabled": False}
            return
        kind = action_type(action)
        before = dict(self.variables)
        try:
            await getattr(self, f"_{kind}")(action, path, step)
        except (ScriptStopped, ConditionFailed, asyncio.CancelledError):
            raise
        except Exception as error:
            step.error = describe_error(error)
            if not action.get("continue_on_error"):
                raise
        finally:
            changed = {key: value for key, value in self.variables.items() if before.get(key, _MISSING) != value}
            if changed:
                step.changed_variables = changed

    # ------------------------------------------------------------------------------------ action types

    async def _service(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        name = str(self.render(action["action"]))
        domain, _, service = name.partition(".")
        data: dict[str, Any] = {}
        for key in ("data_template", "data"):
            rendered = self.render(action.get(key))
            if rendered is not None and not isinstance(rendered, Mapping):
                raise TemplateError(f"'{key}' must render to a mapping", automation_id=self.automation_id, key=key)
            data.update(rendered or {})
        target: dict[str, Any] = dict(self.render(action.get("target")) or {})
        for key in ("entity_id", "device_id"):
            if key in action:
                target[key] = self.render(action[key])
        step.result = {"action": name, "data": data, "target": target}
        response = await self.hub.services.call(
            domain, service, data, target=target or None, context=self.context, blocking=True
        )
        if "response_variable" in action:
            self.variables[action["response_variable"]] = response
        if response is not None:
            step.result["response"] = response

    async def _delay(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        delay = render_duration(action["delay"], self.template_variables())
        step.result = {"delay": delay.total_seconds(), "done": False}
        await asyncio.sleep(delay.total_seconds())
        step.result["done"] = True

    async def _wait_template(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        template = action["wait_template"]
        timeout = self._timeout(action)
        if template_true(template, self.template_variables()):
            self.variables["wait"] = {"completed": True, "remaining": timeout}
            step.result = {"wait": self.variables["wait"]}
            return
        done = self.hub.loop.create_future()

        def changed(event: Event[Any]) -> None:
            if done.done():
                return
            try:
                if template_true(template, self.template_variables()):
                    done.set_result(True)
            except Exception as error:
                done.set_exception(error)

        remove = self.hub.bus.listen(EVENT_STATE_CHANGED, changed, self.scope.event_visible)
        await self._wait(done, remove, timeout, action, step, lambda result: {"completed": True})

    async def _wait_for_trigger(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        timeout = self._timeout(action)
        done = self.hub.loop.create_future()

        def fired(variables: dict[str, Any], context: Context | None) -> None:
            if not done.done():
                done.set_result(variables)

        remove = attach_all(
            self.hub,
            self.platforms,
            action["wait_for_trigger"],
            automation_id=self.automation_id,
            tenant_id=self.tenant_id,
            scope=self.scope,
            fire=fired,
        )
        await self._wait(done, remove, timeout, action, step, lambda result: {"trigger": result})

    def _timeout(self, action: dict[str, Any]) -> float | None:
        if "timeout" not in action:
            return None
        return render_duration(action["timeout"], self.template_variables()).total_seconds()

    async def _wait(
        self,
        done: asyncio.Future[Any],
        remove: Any,
        timeout: float | None,
        action: dict[str, Any],
        step: TraceStep,
        describe: Any,
    ) -> None:
        started = self.hub.loop.time()
        try:
            result = await asyncio.wait_for(asyncio.shield(done), timeout)
        except TimeoutError:
            self.variables["wait"] = {"completed": False, "trigger": None, "remaining": 0}
            step.result = {"wait": self.variables["wait"], "timeout": True}
            if not action["continue_on_timeout"]:
                raise ScriptStopped("timed out waiting") from None
            return
        finally:
            remove()
            if not done.done():
                done.cancel()
        remaining = None if timeout is None else max(timeout - (self.hub.loop.time() - started), 0.0)
        self.variables["wait"] = {"completed": True, "trigger": None, **describe(result), "remaining": remaining}
        step.result = {"wait": self.variables["wait"]}

    async def _event(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        event_type = str(self.render(action["event"]))
        data = {
            **(self.render(action.get("event_data_template")) or {}),
            **(self.render(action.get("event_data")) or {}),
        }
        step.result = {"event": event_type, "event_data": data}
        self.hub.bus.fire(event_type, data, context=self.context, tenant_id=self.tenant_id)

    async def _condition(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        self.trace.steps.remove(step)  # the condition traces itself at the same path
        if not check(action, self, path):
            raise ConditionFailed(path)

    async def _choose(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        for index, option in enumerate(action["choose"]):
            if check_all(option["conditions"], self, f"{path}/choose/{index}/conditions"):
                step.result = {"choice": index}
                await self.sequence(option["sequence"], f"{path}/choose/{index}/sequence")
                return
        step.result = {"choice": "default"}
        if "default" in action:
            await self.sequence(action["default"], f"{path}/default")

    async def _if(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        if check_all(action["if"], self, f"{path}/if"):
            step.result = {"choice": "then"}
            await self.sequence(action["then"], f"{path}/then")
        elif "else" in action:
            step.result = {"choice": "else"}
            await self.sequence(action["else"], f"{path}/else")
        else:
            step.result = {"choice": None}

    async def _repeat(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        repeat = action["repeat"]
        sequence, inner = repeat["sequence"], f"{path}/repeat/sequence"
        saved = self.variables.get("repeat", _MISSING)
        iterations = 0

        async def iteration(index: int, **extra: Any) -> None:
            nonlocal iterations
            iterations += 1
            self.variables["repeat"] = {"index": index, "first": index == 1, **extra}
            await self.sequence(sequence, inner)
            await asyncio.sleep(0)  # let the bus breathe between iterations

        try:
            if "count" in repeat:
                count = repeat["count"]
                count = int(self.render(count)) if isinstance(count, Template) else int(count)
                if not 0 <= count <= MAX_REPEAT:
                    raise ValueError(f"repeat count {count} is outside 0..{MAX_REPEAT}")
                for index in range(1, count + 1):
                    await iteration(index, last=index == count)
            elif "for_each" in repeat:
                items = self.render(repeat["for_each"])
                if not isinstance(items, list):
                    raise ValueError(f"for_each must give a list, got {type(items).__name__}")
                if len(items) > MAX_REPEAT:
                    raise ValueError(f"for_each has {len(items)} items, more than {MAX_REPEAT}")
                for index, item in enumerate(items, 1):
                    await iteration(index, last=index == len(items), item=item)
            elif "while" in repeat:
                index = 1
                while check_all(repeat["while"], self, f"{path}/repeat/while"):
                    _cap(index)
                    await iteration(index)
                    index += 1
            else:
                index = 1
                while True:
                    _cap(index)
                    await iteration(index)
                    if check_all(repeat["until"], self, f"{path}/repeat/until"):
                        break
                    index += 1
        finally:
            step.result = {"iterations": iterations}
            if saved is _MISSING:
                self.variables.pop("repeat", None)
            else:
                self.variables["repeat"] = saved

    async def _variables(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        for name, value in action["variables"].items():
            self.variables[name] = self.render(value)

    async def _stop(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        reason = str(self.render(action["stop"]))
        step.result = {"stop": reason, "error": action["error"]}
        raise ScriptStopped(reason, error=action["error"])

    async def _parallel(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        branches = [
            self.hub.loop.create_task(self.sequence(branch, f"{path}/parallel/{index}"))
            for index, branch in enumerate(action["parallel"])
        ]
        try:
            await asyncio.gather(*branches)
        finally:
            for task in branches:
                task.cancel()

    async def _sequence(self, action: dict[str, Any], path: str, step: TraceStep) -> None:
        await self.sequence(action["sequence"], f"{path}/sequence")


_MISSING = object()


def _cap(index: int) -> None:
    if index > MAX_REPEAT:
        raise RuntimeError(f"repeat stopped after {MAX_REPEAT} iterations")


def describe_error(error: BaseException) -> str:
    if isinstance(error, vol.Invalid):
        return f"invalid value: {error}"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
