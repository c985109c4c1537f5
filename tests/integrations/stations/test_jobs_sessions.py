"""The scheduled jobs on the hub's real scheduler (periods shortened through the ``stations:`` section): end-of-
session warnings once per threshold, for automations (the shipped blueprint) and the agent; sessions expiring at
``ends_at``; codes never typed expiring after ``code_ttl_hours``.

The hub's clock is moved forward through ``manager.clock`` (what every timer of the manager reads), so a
30-minute session's last minutes pass in a fraction of a second; the jobs themselves run for real.
"""

from __future__ import annotations

import time
from typing import Any

import yaml

from hub.core import Event
from hub.testing import wait_for
from integrations.stations.const import EVENT_SESSION_ENDED, EVENT_SESSION_ENDING

from .agent_support import Site, SiteFactory, eventually, make_site

__all__ = ["make_site"]

FAST = {"warn_interval": 0.05, "expire_interval": 0.05, "sweep_interval": 0.05}
#: As in docs/integrations/stations.md: the blueprint's warn actions call the station's own warning.
WARN_ACTIONS = [
    {
        "action": "stations.warn",
        "data": {
            "station": "{{ trigger.event.data.station }}",
            "message": "{{ trigger.event.data.minutes_left }} minutes left: save your work",
        },
    }
]


class Clock:
    """The manager's clock, ``offset`` seconds ahead of the real one."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def record(site: Site, event_type: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def listener(event: Event[Any]) -> None:
        seen.append({**event.data, "tenant_id": event.tenant_id})

    site.hub.bus.listen(event_type, listener)
    return seen


async def test_warnings_fire_once_per_threshold_for_automations_and_the_agent(make_site: SiteFactory) -> None:
    site = await make_site(warn_minutes=[5, 1], **FAST)
    clock = site.manager.clock = Clock()
    ending = record(site, EVENT_SESSION_ENDING)
    automations = [
        {
            "id": "warn_pc1",
            "tenant": "library",
            "use_blueprint": {
                "path": "gatehouse/station_session_ending.yaml",
                "input": {"station": "PC-1", "minutes": 5, "warn_actions": WARN_ACTIONS},
            },
        }
    ]
    (site.hub.config_dir / "automations.yaml").write_text(yaml.safe_dump(automations), encoding="utf-8")
    assert await site.hub.automations.reload() == []

    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    session = await site.new_session(30, station.id)
    await agent.validate(session["code"])
    await agent.next_message("session")

    clock.offset = 20 * 60  # 10 minutes left: nothing yet
    await wait_for(lambda: "stations warnings" in site.hub.scheduler.jobs)
    assert await site.manager.warn_due() == 0
    clock.offset = 25 * 60 + 30  # 4.5 minutes left
    warnings = [await agent.next_message("warn"), await agent.next_message("warn")]  # the job's, the automation's
    assert sorted(warning["message"] for warning in warnings) == [
        "5 minutes left: save your work",
        "Your session ends in 5 min",
    ]
    assert {warning["minutes_left"] for warning in warnings} == {5}
    await wait_for(lambda: len(site.hub.notifications.all(site.tenant.id)) == 1)
    (notification,) = site.hub.notifications.all(site.tenant.id)
    assert (notification.title, notification.message) == ("Session ending", "The session on PC-1 ends in 5 minutes.")

    clock.offset = 29 * 60 + 10  # 50 s left
    warnings = [await agent.next_message("warn"), await agent.next_message("warn")]
    assert {warning["minutes_left"] for warning in warnings} == {1}
    await wait_for(lambda: len(site.hub.notifications.all(site.tenant.id)) == 2)
    for _ in range(3):  # more turns of the job: nothing fires again
        await site.manager.warn_due()

    assert [(event["station"], event["minutes_left"]) for event in ending] == [("PC-1", 5), ("PC-1", 1)]
    first = ending[0]
    assert first["station_id"] == station.id and first["session_id"] == session["id"]
    assert first["tenant_id"] == site.tenant.id and first["ends_at"]
    assert all(session["code"] not in str(event) for event in ending)  # never a code on the bus


async def test_a_session_expires_at_ends_at_and_the_agent_is_told(make_site: SiteFactory) -> None:
    site = await make_site(**FAST)
    clock = site.manager.clock = Clock()
    ended = record(site, EVENT_SESSION_ENDED)
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    session = await site.new_session(10, station.id)
    await agent.validate(session["code"])
    await agent.next_message("session")
    ends_at = (await site.session(session["id"]))["ends_at"]

    clock.offset = 9 * 60 + 50  # 10 s before the end: still running
    await wait_for(lambda: bool(site.hub.scheduler.jobs.get("stations expire")))
    assert await site.manager.expire_due() == 0
    assert (await site.session(session["id"]))["status"] == "active"

    clock.offset = 10 * 60 + 1
    closed = await agent.next_message("close_session")
    assert closed["session_id"] == session["id"] and closed["reason"] == "expired"
    assert agent.locked
    stored = await site.session(session["id"])
    assert stored["status"] == "finished" and stored["end_reason"] == "expired" and stored["ends_at"] == ends_at
    assert [(event["station"], event["reason"]) for event in ended] == [("PC-1", "expired")]
    await agent.heartbeat()  # the clock jumped 10 minutes: the station's next heartbeat brings it back online
    await wait_for(lambda: site.status(station) == "available")
    assert site.hub.states.get("sensor.pc_1_remaining_time").state == "0"


async def test_a_code_never_typed_expires_after_its_time_to_live(make_site: SiteFactory) -> None:
    site = await make_site(code_ttl_hours=1, **FAST)
    clock = site.manager.clock = Clock()
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token)
    session = await site.new_session(30)

    clock.offset = 3601

    async def finished() -> bool:
        return (await site.session(session["id"]))["status"] == "finished"

    await eventually(finished)
    assert (await site.session(session["id"]))["end_reason"] == "code_expired"

    await agent.validate(session["code"])
    error = await agent.next_message("error")
    assert error["error"] == "invalid_code" and error["message"] == "invalid or expired code"
    assert site.status(station) != "busy"
