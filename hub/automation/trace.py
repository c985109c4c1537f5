"""Traces: what one run of an automation did, step by step, kept for the last runs of each automation.

A step's ``path`` follows Home Assistant's trace paths: ``trigger/0``, ``condition/1``, ``action/0``,
``action/2/choose/0/sequence/1``, ``action/3/repeat/sequence/0``.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Mapping
from typing import Any, Literal

from hub.core import Context, Event, State
from hub.ids import new_id

RunResult = Literal["finished", "stopped", "error", "aborted"]


def json_safe(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` that ``json.dumps`` accepts: states and events as dicts, times as ISO strings."""
    if depth > 20:
        return repr(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, State | Event | Context):  # before tuples: a State is a tuple underneath
        return json_safe(value.as_dict(), depth + 1)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item, depth + 1) for item in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return json_safe(as_dict(), depth + 1)
    return repr(value)


class TraceStep:
    """One step of a run: where it is, when it ran, what it gave, what went wrong, which variables it set."""

    __slots__ = ("changed_variables", "error", "path", "result", "timestamp")

    def __init__(self, path: str) -> None:
        self.path = path
        self.timestamp = time.time()
        self.result: dict[str, Any] | None = None
        self.error: str | None = None
        self.changed_variables: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "timestamp": _iso(self.timestamp),
            "result": json_safe(self.result),
            "error": self.error,
            "changed_variables": json_safe(self.changed_variables),
        }


class Trace:
    """One run of one automation; JSON-safe through ``as_dict``."""

    __slots__ = (
        "automation_id",
        "context",
        "error",
        "finish",
        "result",
        "run_id",
        "start",
        "steps",
        "stop_reason",
        "tenant_id",
        "trigger",
        "variables",
    )

    def __init__(
        self, automation_id: str, tenant_id: str, trigger: str, variables: Mapping[str, Any], context: Context
    ) -> None:
        self.run_id = new_id()
        self.automation_id = automation_id
        self.tenant_id = tenant_id
        self.trigger = trigger
        self.variables = dict(variables)
        self.context = context
        self.start = time.time()
        self.finish: float | None = None
        self.steps: list[TraceStep] = []
        self.result: RunResult | None = None
        self.error: str | None = None
        self.stop_reason: str | None = None

    @property
    def state(self) -> str:
        return "running" if self.result is None else "stopped"

    def step(self, path: str) -> TraceStep:
        step = TraceStep(path)
        self.steps.append(step)
        return step

    def finished(self, result: RunResult, *, error: str | None = None, stop_reason: str | None = None) -> None:
        if self.result is not None:
            return
        self.result = result
        self.error = error
        self.stop_reason = stop_reason
        self.finish = time.time()

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "automation_id": self.automation_id,
            "tenant_id": self.tenant_id,
            "trigger": self.trigger,
            "variables": json_safe(self.variables),
            "context": self.context.as_dict(),
            "start": _iso(self.start),
            "finish": _iso(self.finish) if self.finish is not None else None,
            "state": self.state,
            "result": self.result,
            "error": self.error,
            "stop_reason": self.stop_reason,
            "steps": [step.as_dict() for step in self.steps],
        }


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()
