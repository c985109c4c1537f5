"""Jinja2 templates for automations, sandboxed, compiled once, reading only the automation's tenant's states.

A string holding ``{{`` or ``{%`` is a template; ``compile_templates`` turns every such string of a validated
configuration into a ``Template`` that remembers where it was written (``actions.0.data.message``), so that a
syntax error at load time and a render error at run time both name the automation and the key. Results are
turned back into numbers, booleans, lists and dicts where the text is one (``"{{ 2 + 3 }}"`` gives ``5``), as
Home Assistant does.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from hub.automation.errors import TemplateError
from hub.core import Hub, State

_TEMPLATE_MARK = re.compile(r"{{|{%|{#")
_NATIVE_START = re.compile(r"^\s*(-?\d|\[|\{|\(|True$|False$|None$)")


def is_template(value: Any) -> bool:
    return isinstance(value, str) and _TEMPLATE_MARK.search(value) is not None


class Template:
    """A compiled template and where it was written; render with the variables of a run."""

    __slots__ = ("compiled", "key", "source")

    def __init__(self, source: str, key: str = "") -> None:
        self.source = source
        self.key = key
        try:
            self.compiled = _compile(str(source))
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"template syntax: {error.message}", key=key, line=error.lineno) from None

    def render(self, variables: Mapping[str, Any], *, native: bool = True) -> Any:
        try:
            text = self.compiled.render(variables)
        except TemplateError:
            raise
        except Exception as error:  # undefined names, type errors, sandbox refusals: all the user's template
            raise TemplateError(f"{type(error).__name__}: {error}", key=self.key) from None
        return to_native(text) if native else text

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def to_native(text: str) -> Any:
    """``"5"`` -> 5, ``"[1, 2]"`` -> [1, 2], ``"True"`` -> True; other text stays text."""
    if not _NATIVE_START.match(text):
        return text
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return text
    if isinstance(value, int | float | bool | list | dict | tuple) or value is None:
        return list(value) if isinstance(value, tuple) else value
    return text


def compile_templates(value: Any, key: str) -> Any:
    """A copy of ``value`` with each template string replaced by a compiled ``Template`` (raises TemplateError)."""
    if isinstance(value, str):
        return Template(value, key) if is_template(value) else value
    if isinstance(value, Mapping):
        return {name: compile_templates(item, f"{key}.{name}" if key else str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [compile_templates(item, f"{key}.{index}") for index, item in enumerate(value)]
    return value


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """Render every ``Template`` inside ``value`` (dicts and lists walked); plain values come back as they are."""
    if isinstance(value, Template):
        return value.render(variables)
    if isinstance(value, dict):
        return {name: render(item, variables) for name, item in value.items()}
    if isinstance(value, list):
        return [render(item, variables) for item in value]
    return value


def has_templates(value: Any) -> bool:
    if isinstance(value, Template):
        return True
    if isinstance(value, dict):
        return any(has_templates(item) for item in value.values())
    if isinstance(value, list):
        return any(has_templates(item) for item in value)
    return False


# ----------------------------------------------------------------------------------------- tenant's states


class TemplateState:
    """A state as templates see it: ``state``, ``attributes``, ``last_changed`` as a datetime, ``name``."""

    __slots__ = ("_state", "_zone")

    def __init__(self, state: State, zone: ZoneInfo) -> None:
        self._state = state
        self._zone = zone

    entity_id = property(lambda self: self._state.entity_id)
    state = property(lambda self: self._state.state)
    attributes = property(lambda self: dict(self._state.attributes))
    domain = property(lambda self: self._state.domain)
    object_id = property(lambda self: self._state.object_id)
    name = property(lambda self: self._state.name)
    last_changed = property(lambda self: dt.datetime.fromtimestamp(self._state.last_changed, self._zone))
    last_updated = property(lambda self: dt.datetime.fromtimestamp(self._state.last_updated, self._zone))

    def __str__(self) -> str:
        return self._state.state

    def __repr__(self) -> str:
        return f"<state {self._state.entity_id}={self._state.state}>"


class TenantStates:
    """``states('sensor.x')``, ``states.sensor.x``, ``states.sensor`` (a list): the tenant's states only."""

    __slots__ = ("_hub", "_tenant_id", "_zone")
    # the sandbox asks these before calling; answer here so that __getattr__ does not take them for domains
    unsafe_callable = False
    alters_data = False

    def __init__(self, hub: Hub, tenant_id: str | None, zone: ZoneInfo) -> None:
        self._hub = hub
        self._tenant_id = tenant_id
        self._zone = zone

    def get(self, entity_id: str) -> State | None:
        state = self._hub.states.get(str(entity_id))
        if state is None or (self._tenant_id is not None and state.tenant_id != self._tenant_id):
            return None
        return state

    def __call__(self, entity_id: str) -> str:
        state = self.get(entity_id)
        return state.state if state is not None else "unknown"

    def __getattr__(self, domain: str) -> _DomainStates:
        if domain.startswith("_"):
            raise AttributeError(domain)
        return _DomainStates(self, domain)

    def __iter__(self) -> Iterator[TemplateState]:
        states = self._hub.states.all(tenant_id=self._tenant_id) if self._tenant_id else self._hub.states.all()
        return iter(TemplateState(state, self._zone) for state in sorted(states, key=lambda s: s.entity_id))


class _DomainStates:
    __slots__ = ("_domain", "_states")

    def __init__(self, states: TenantStates, domain: str) -> None:
        self._states = states
        self._domain = domain

    def __getattr__(self, object_id: str) -> TemplateState | None:
        if object_id.startswith("_"):
            raise AttributeError(object_id)
        state = self._states.get(f"{self._domain}.{object_id}")
        return TemplateState(state, self._states._zone) if state is not None else None

    def __iter__(self) -> Iterator[TemplateState]:
        return iter(state for state in self._states if state.domain == self._domain)


def helpers(hub: Hub, tenant_id: str | None, zone: ZoneInfo) -> dict[str, Any]:
    """The per-tenant globals of a render: states and the functions over them, and the clock in the hub's zone."""
    states = TenantStates(hub, tenant_id, zone)

    def is_state(entity_id: str, value: Any) -> bool:
        state = states.get(entity_id)
        if state is None:
            return False
        return state.state in value if isinstance(value, list) else state.state == value

    def state_attr(entity_id: str, name: str) -> Any:
        state = states.get(entity_id)
        return state.attributes.get(name) if state is not None else None

    def is_state_attr(entity_id: str, name: str, value: Any) -> bool:
        state = states.get(entity_id)
        return state is not None and name in state.attributes and state.attributes[name] == value

    def has_value(entity_id: str) -> bool:
        state = states.get(entity_id)
        return state is not None and state.state not in ("unknown", "unavailable")

    return {
        "states": states,
        "is_state": is_state,
        "state_attr": state_attr,
        "is_state_attr": is_state_attr,
        "has_value": has_value,
        "now": lambda: dt.datetime.now(zone),
        "utcnow": lambda: dt.datetime.now(dt.UTC),
        "_zone": zone,
    }


# ------------------------------------------------------------------------------------ time helpers/filters


def as_datetime(value: Any) -> dt.datetime | None:
    """A datetime from a datetime, an epoch number or an ISO 8601 string; None when it is none of them."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            try:
                return dt.datetime.fromtimestamp(float(value), dt.UTC)
            except ValueError:
                return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
    return None


def as_timestamp(value: Any, default: Any = None) -> float | None:
    moment = as_datetime(value)
    if moment is None:
        return default
    return moment.timestamp()


def _zone_of(context: jinja2.runtime.Context) -> ZoneInfo:
    zone = context.get("_zone")
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")


@jinja2.pass_context
def _as_local(context: jinja2.runtime.Context, value: Any) -> dt.datetime | None:
    moment = as_datetime(value)
    return moment.astimezone(_zone_of(context)) if moment is not None else None


@jinja2.pass_context
def _timestamp_custom(
    context: jinja2.runtime.Context,
    value: Any,
    format: str = "%Y-%m-%d %H:%M:%S",
    local: bool = True,
    default: Any = None,
) -> Any:
    moment = as_datetime(value)
    if moment is None:
        return default if default is not None else value
    return moment.astimezone(_zone_of(context) if local else dt.UTC).strftime(format)


def relative_time(value: Any) -> str:
    """``3 minutes``, ``2 hours``: how long ago ``value`` was (a future time is returned as it is)."""
    moment = as_datetime(value)
    if moment is None:
        return str(value)
    seconds = (dt.datetime.now(dt.UTC) - moment).total_seconds()
    if seconds < 0:
        return str(value)
    for unit, size in (("year", 31_536_000), ("month", 2_592_000), ("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = int(seconds)
    return f"{count} second{'s' if count != 1 else ''}"


def _to_int(value: Any, default: Any = 0, base: int = 10) -> Any:
    try:
        return int(value, base) if isinstance(value, str) and base != 10 else int(float(value))
    except (ValueError, TypeError, OverflowError):
        return default


def _to_float(value: Any, default: Any = 0.0) -> Any:
    try:
        return float(value)
    except (ValueError, TypeError):
        return default


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=jinja2.Undefined, autoescape=False, keep_trailing_newline=False)
    env.globals.update(as_timestamp=as_timestamp, as_datetime=as_datetime, relative_time=relative_time)
    env.filters.update(
        as_timestamp=as_timestamp,
        as_datetime=as_datetime,
        as_local=_as_local,
        timestamp_custom=_timestamp_custom,
        relative_time=relative_time,
        int=_to_int,
        float=_to_float,
    )
    env.globals["int"] = _to_int
    env.globals["float"] = _to_float
    return env


ENVIRONMENT = _environment()


@functools.lru_cache(maxsize=4096)
def _compile(source: str) -> jinja2.Template:
    """Compiled once per distinct source (many automations from one blueprint share theirs)."""
    return ENVIRONMENT.from_string(source)
