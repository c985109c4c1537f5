"""The ``time`` and ``time_pattern`` trigger platforms: timers on the loop, in the hub's time zone.

Each timer computes its next moment and sleeps until then with ``loop.call_later``; nothing polls. A ``time``
trigger naming an entity (an input_datetime-like helper) reschedules whenever that entity changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import voluptuous as vol

from hub.automation import validators as cv
from hub.automation.conditions import entity_time
from hub.automation.templates import TenantStates
from hub.automation.triggers import Detach, TriggerContext, TriggerPlatform
from hub.automation.zone import hub_zone
from hub.core import EVENT_STATE_CHANGED, Event, Hub

TIME_SCHEMA = vol.Schema({vol.Required("at"): vol.All(cv.string_list_or_times, [cv.time_or_entity])})


def _pattern(maximum: int) -> Callable[[Any], tuple[str, int]]:
    """``*``, a number, or ``/n`` (every n-th): stored as ("any"|"value"|"every", n)."""

    def validate(value: Any) -> tuple[str, int]:
        text = str(value).strip()
        if text == "*":
            return ("any", 0)
        every = text.startswith("/")
        try:
            number = int(text[1:] if every else text)
        except ValueError:
            raise vol.Invalid(f"invalid pattern {value!r} (use a number, '*' or '/n')") from None
        if every and not 0 < number <= maximum:
            raise vol.Invalid(f"'/n' needs n from 1 to {maximum}")
        if not every and not 0 <= number <= maximum:
            raise vol.Invalid(f"must be from 0 to {maximum}")
        return ("every" if every else "value", number)

    return validate


TIME_PATTERN_SCHEMA = vol.Schema(
    vol.All(
        vol.Schema(
            {
                vol.Optional("hours"): _pattern(23),
                vol.Optional("minutes"): _pattern(59),
                vol.Optional("seconds"): _pattern(59),
            }
        ),
        vol.Schema(
            vol.Any(
                {vol.Required("hours"): object},
                {vol.Required("minutes"): object},
                {vol.Required("seconds"): object},
                msg="give at least one of hours, minutes, seconds",
            ),
            extra=vol.ALLOW_EXTRA,
        ),
    )
)


def _matcher(pattern: tuple[str, int] | None, default: tuple[str, int]) -> Callable[[int], bool]:
    kind, number = pattern or default
    if kind == "any":
        return lambda value: True
    if kind == "every":
        return lambda value: value % number == 0
    return lambda value: value == number


def next_pattern_time(now: dt.datetime, config: dict[str, Any]) -> dt.datetime:
    """The first whole second after ``now`` that matches hours/minutes/seconds (Home Assistant's defaults:
    a unit smaller than the largest one given defaults to 0, a larger one to any)."""
    given = [unit for unit in ("hours", "minutes", "seconds") if unit in config]
    largest = ("hours", "minutes", "seconds").index(given[0])
    default = {
        unit: (("any", 0) if index < largest else ("value", 0))
        for index, unit in enumerate(("hours", "minutes", "seconds"))
    }
    hours = _matcher(config.get("hours"), default["hours"])
    minutes = _matcher(config.get("minutes"), default["minutes"])
    seconds = _matcher(config.get("seconds"), default["seconds"])
    moment = now.replace(microsecond=0) + dt.timedelta(seconds=1)
    for _ in range(24 * 61 * 61):
        if not hours(moment.hour):
            moment = (moment + dt.timedelta(hours=1)).replace(minute=0, second=0)
        elif not minutes(moment.minute):
            moment = (moment + dt.timedelta(minutes=1)).replace(second=0)
        elif not seconds(moment.second):
            moment += dt.timedelta(seconds=1)
        else:
            return moment
    raise ValueError("time pattern never matches")


class _Timer:
    """Sleeps until the next moment ``next_at`` gives, fires, and asks again; ``cancel`` stops it."""

    def __init__(
        self, hub: Hub, next_at: Callable[[dt.datetime], dt.datetime | None], fire: Callable[[dt.datetime], None]
    ) -> None:
        self._hub = hub
        self._next_at = next_at
        self._fire = fire
        self._handle: asyncio.TimerHandle | None = None
        self._zone = hub_zone(hub)

    def schedule(self, after: dt.datetime | None = None) -> None:
        """Plan the next fire; ``after`` (the moment just fired) guards against a timer that woke a little early."""
        self.cancel()
        now = dt.datetime.now(self._zone)
        moment = self._next_at(max(now, after) if after is not None else now)
        if moment is None:
            return
        delay = max((moment - now).total_seconds(), 0.0)
        self._handle = self._hub.loop.call_later(delay, self._run, moment)

    def _run(self, moment: dt.datetime) -> None:
        self._handle = None
        try:
            self._fire(moment)
        finally:
            self.schedule(after=moment)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _next_daily(now: dt.datetime, at: dt.time) -> dt.datetime:
    target = now.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    if target <= now:
        target += dt.timedelta(days=1)
    return target


def attach_time(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    zone = hub_zone(hub)
    states = TenantStates(hub, context.tenant_id, zone)
    timers: list[_Timer] = []
    removers: list[Callable[[], None]] = []
    for at in config["at"]:
        entity_id = at if isinstance(at, str) else None

        def next_at(now: dt.datetime, at: dt.time | str = at) -> dt.datetime | None:
            moment = entity_time(states, at) if isinstance(at, str) else at
            return _next_daily(now, moment) if moment is not None else None

        def fire(moment: dt.datetime, entity_id: str | None = entity_id) -> None:
            context.fire({"now": moment, "entity_id": entity_id, "description": f"time {moment:%H:%M:%S}"}, None)

        timer = _Timer(hub, next_at, fire)
        timer.schedule()
        timers.append(timer)
        if entity_id is not None:
            watched = entity_id

            def relevant(event: Event[Any], watched: str = watched) -> bool:
                return event.data["entity_id"] == watched and context.scope.event_visible(event)

            def reschedule(event: Event[Any], timer: _Timer = timer) -> None:
                timer.schedule()

            removers.append(hub.bus.listen(EVENT_STATE_CHANGED, reschedule, relevant))

    def detach() -> None:
        for timer in timers:
            timer.cancel()
        for remove in removers:
            remove()

    return detach


def attach_time_pattern(hub: Hub, config: dict[str, Any], context: TriggerContext) -> Detach:
    def fire(moment: dt.datetime) -> None:
        context.fire({"now": moment, "description": "time pattern"}, None)

    timer = _Timer(hub, lambda now: next_pattern_time(now, config), fire)
    timer.schedule()
    return timer.cancel


PLATFORMS = [
    TriggerPlatform("time", TIME_SCHEMA, attach_time, "every day at a time of day, or the time an entity holds"),
    TriggerPlatform(
        "time_pattern",
        TIME_PATTERN_SCHEMA,
        attach_time_pattern,
        "when hours/minutes/seconds match ('/5' = every fifth)",
    ),
]
