"""Push mode: the hub sets the device's httpHosts to its own push route (an unguessable per-entry token), the
device POSTs each event there (access terminals as multipart/form-data with an ``event_log`` part and a picture,
cameras as a bare body), and the hub turns them into the same events as the stream would. Unknown tokens and
bodies that are not events are refused, with one log line each.
"""

from __future__ import annotations

import logging

import pytest

from hub.testing import wait_for
from integrations.hikvision.direct import DirectDevice

from .conftest import HikSite

TERMINAL = "DS-K1T671M0003"


def direct_of(site: HikSite, serial: str) -> DirectDevice:
    return next(direct for direct in site.manager.entries.values() if direct.serial == serial)


async def test_the_device_is_pointed_at_the_hub_and_its_posts_become_events(site: HikSite) -> None:
    simulator = await site.device_sim(TERMINAL, kind="access")
    await site.add_device(simulator, event_mode="push", name="Gate")
    direct = direct_of(site, TERMINAL)

    assert direct.push_token is not None and len(direct.push_token) >= 40
    assert simulator.pusher.target == f"{site.hub.http.url}/api/hikvision/push/{direct.push_token}"
    assert simulator.stream_count == 0  # no alert stream in push mode
    await wait_for(lambda: not direct.backfilling)  # the history read at connection time is done

    first = simulator.emit_access(5, 75, employee_no="11", name="Grace", picture=True)  # event_log + picture
    second = simulator.emit_access(5, 76, employee_no="12")
    await wait_for(lambda: len(site.access(TERMINAL)) == 2)

    events = site.access(TERMINAL)
    assert [(e["serial_no"], e["granted"], e["source"]) for e in events] == [
        (first, True, "push"),
        (second, False, "push"),
    ]
    assert events[0]["person"] == "Grace"
    assert simulator.pusher.last_status == 200


async def test_a_camera_pushes_detections(site: HikSite) -> None:
    simulator = await site.device_sim("DS-2CD2143G20003", kind="camera")
    await site.add_device(simulator, event_mode="push", name="Lobby")

    simulator.emit_event("fielddetection", channel=1)
    await wait_for(lambda: site.hub.states.get("binary_sensor.lobby_intrusion_1") is not None)

    assert site.hub.states.get("binary_sensor.lobby_intrusion_1").state == "on"
    assert [e["source"] for e in site.of_type("hikvision_event")] == ["push"]


async def test_an_unknown_token_is_refused_and_said_once(site: HikSite, caplog: pytest.LogCaptureFixture) -> None:
    simulator = await site.device_sim(TERMINAL, kind="access")
    await site.add_device(simulator, event_mode="push")
    url = f"{site.hub.http.url}/api/hikvision/push/not-a-token"

    for _ in range(3):
        async with site.session.post(url, data=b'{"eventType": "VMD"}') as response:
            assert response.status == 404
    refusals = [r for r in caplog.records if "unknown token" in r.getMessage() and r.levelno == logging.WARNING]
    assert len(refusals) == 1
    assert site.of_type("hikvision_event") == []


async def test_a_post_that_is_not_an_event_is_a_400(site: HikSite, caplog: pytest.LogCaptureFixture) -> None:
    simulator = await site.device_sim(TERMINAL, kind="access")
    await site.add_device(simulator, event_mode="push")
    url = f"{site.hub.http.url}/api/hikvision/push/{direct_of(site, TERMINAL).push_token}"

    for body in (b"<html><body>Server busy</body></html>", b'{"eventType": "Acc'):
        async with site.session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 400
            assert (await response.json())["error"]["code"] == "invalid_event"
    assert len([r for r in caplog.records if "skipped a pushed event" in r.getMessage()]) == 2

    simulator.inject("malformed_json")  # a spoiled push from the device itself, then a good one
    simulator.emit_access(5, 75, employee_no="1")
    good = simulator.emit_access(5, 75, employee_no="2")
    await wait_for(lambda: good in [e["serial_no"] for e in site.access(TERMINAL)])
    assert site.hub.is_running
