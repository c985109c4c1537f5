"""The upkeep jobs: the offline sweep (a silent station goes offline, last_seen kept; maintenance stays
maintenance) and the daily log purge (audit rows past ``log_retention_days`` go, recent ones stay)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from hub.testing import HubFactory, wait_for
from integrations.stations.const import EVENT_STATUS_CHANGED
from integrations.stations.jobs import PURGE_AT, purge_logs

from .agent_support import SiteFactory, make_site

__all__ = ["make_site"]


async def test_a_station_that_stops_heartbeating_goes_offline_and_comes_back(make_site: SiteFactory) -> None:
    site = await make_site(heartbeat_interval=0.1, offline_after=0.3, sweep_interval=0.05)
    changes: list[tuple[str, str]] = []
    site.hub.bus.listen(EVENT_STATUS_CHANGED, lambda event: changes.append((event.data["old_status"],
                                                                            event.data["status"])))  # fmt: skip
    station, token = await site.station("PC-1", "192.0.2.11")
    agent = await site.connected_agent("192.0.2.11", token, auto_heartbeat=True)  # every 0.1 s, as hello says
    assert agent.interval == 0.1

    await asyncio.sleep(0.9)  # three times offline_after: the heartbeats keep it online all along
    assert site.status(station) == "available" and changes == [("offline", "available")]

    agent.auto_heartbeat = False
    await agent.disconnect()  # the station froze: no heartbeat, no connection
    await wait_for(lambda: site.hub.states.get("sensor.pc_1_status").state == "offline", timeout=3)
    state = site.hub.states.get("sensor.pc_1_status")
    assert state is not None and site.status(station) == "offline"
    assert state.attributes["last_seen"] is not None  # kept, for "last seen 5 minutes ago"
    assert site.manager.station_dict(station.id)["last_seen"] == state.attributes["last_seen"]
    assert changes == [("offline", "available"), ("available", "offline")]

    await agent.start()
    await agent.heartbeat()
    await wait_for(lambda: site.status(station) == "available")


async def test_a_station_in_maintenance_stays_in_maintenance_whatever_its_agent_says(make_site: SiteFactory) -> None:
    site = await make_site(heartbeat_interval=0.1, offline_after=0.3, sweep_interval=0.05)
    station, token = await site.station("PC-1", "192.0.2.11")
    await site.manager.set_status(station.id, "maintenance", actor="test")
    agent = await site.connected_agent("192.0.2.11", token)
    assert agent.hello is not None and agent.hello["station"]["status"] == "maintenance"
    await agent.heartbeat()
    await agent.disconnect()
    await wait_for(lambda: not site.manager.station_dict(station.id)["online"], timeout=3)
    assert site.status(station) == "maintenance"
    assert site.hub.states.get("sensor.pc_1_status").state == "maintenance"


async def test_the_purge_deletes_log_rows_past_retention_and_is_scheduled_nightly(
    make_site: SiteFactory, database_url: str
) -> None:
    site = await make_site(database_url=database_url, log_retention_days=30)
    manager = site.manager
    now = time.time()
    manager.clock = lambda: now - 45 * 86400
    old = await manager.log(site.tenant.id, "test", "station.update", details={"n": 1})
    manager.clock = lambda: now - 29 * 86400
    recent = await manager.log(site.tenant.id, "test", "station.update", details={"n": 2})
    manager.clock = time.time
    assert old is not None and recent is not None

    job = site.hub.scheduler.jobs["stations log purge"]
    next_run = dt.datetime.fromtimestamp(job, dt.UTC)
    assert (next_run.hour, next_run.minute) == (PURGE_AT.hour, PURGE_AT.minute)  # the hub runs on UTC here
    assert 0 < job - time.time() <= 86400

    assert await purge_logs(manager, 30) == 1
    assert await manager.store.log(old) is None
    kept = await manager.store.log(recent)
    assert kept is not None and kept.details == {"n": 2}
    assert await purge_logs(manager, 30) == 0


async def test_every_job_is_on_the_hub_scheduler_and_none_without_a_stations_section(
    make_site: SiteFactory, hub_factory: HubFactory
) -> None:
    site = await make_site()
    names = {"stations expire", "stations warnings", "stations offline", "stations log purge"}
    assert names <= set(site.hub.scheduler.jobs)
    bare = await hub_factory()
    assert not [name for name in bare.scheduler.jobs if name.startswith("stations")]
