"""Bad input from a device: malformed XML/JSON parts, a wrong boundary, a truncated stream, bogus timestamps, HTML
error pages. Each is skipped with one log line, the stream reconnects when it has to, and the hub stays up: the
next good event still arrives, and an access event lost with a broken stream comes back through the backfill.
"""

from __future__ import annotations

import logging

import pytest

from hub.device_registry import DeviceStatus
from hub.testing import wait_for
from integrations.hikvision.direct import DirectDevice

from .conftest import HikSite

TERMINAL = "DS-K1T671M0002"
CAMERA = "DS-2CD2143G20002"


def direct_of(site: HikSite, serial: str) -> DirectDevice:
    return next(direct for direct in site.manager.entries.values() if direct.serial == serial)


@pytest.mark.parametrize(
    ("kind", "fault"),
    [("access", "malformed_json"), ("camera", "malformed_xml"), ("access", "wrong_boundary")],
)
async def test_an_unreadable_part_is_skipped_and_the_stream_goes_on(
    site: HikSite, caplog: pytest.LogCaptureFixture, kind: str, fault: str
) -> None:
    serial = TERMINAL if kind == "access" else CAMERA
    simulator = await site.device_sim(serial, kind=kind)
    await site.add_device(simulator, name="Device")
    await wait_for(lambda: simulator.stream_count == 1)
    direct = direct_of(site, serial)

    if kind == "access":  # one good event first: junk before the first part is a preamble, not a fault
        first = simulator.emit_access(5, 75, employee_no="0")
        await wait_for(lambda: first in [e["serial_no"] for e in site.access(serial)])
    else:
        simulator.emit_event("io", channel=1)
        await wait_for(lambda: len(site.of_type("hikvision_event")) == 1)

    caplog.clear()
    simulator.inject(fault)
    if kind == "access":
        simulator.emit_access(5, 75, employee_no="1")  # spoiled on the wire (it stays in the history)
        good = simulator.emit_access(5, 75, employee_no="2")
        await wait_for(lambda: good in [e["serial_no"] for e in site.access(serial)])
    else:
        simulator.emit_event("VMD", channel=1)
        simulator.emit_event("linedetection", channel=1)
        await wait_for(lambda: any(e["event_type"] == "linedetection" for e in site.of_type("hikvision_event")))
        assert [e["event_type"] for e in site.of_type("hikvision_event")] == ["io", "linedetection"]

    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert direct.client.skipped_parts == (0 if fault == "wrong_boundary" else 1)  # that one is not even a part
    assert direct.streams_opened == 1  # the same stream carried on
    assert site.device(serial).status is DeviceStatus.ACTIVE


async def test_a_truncated_stream_reconnects_and_the_cut_scan_is_read_back(site: HikSite) -> None:
    simulator = await site.device_sim(TERMINAL, kind="access")
    await site.add_device(simulator, name="Device")
    await wait_for(lambda: simulator.stream_count == 1)
    direct = direct_of(site, TERMINAL)

    simulator.inject("truncate")
    cut = simulator.emit_access(5, 75, employee_no="3")  # half a part, then the connection drops

    await wait_for(lambda: [e["serial_no"] for e in site.access(TERMINAL)] == [cut], timeout=10)
    assert direct.streams_opened >= 2
    assert site.access(TERMINAL)[0]["source"] == "backfill"
    after = simulator.emit_access(5, 75, employee_no="4")
    await wait_for(lambda: [e["serial_no"] for e in site.access(TERMINAL)] == [cut, after], timeout=10)


async def test_a_bogus_timestamp_keeps_the_event_with_the_hubs_time(site: HikSite) -> None:
    simulator = await site.device_sim(TERMINAL, kind="access")
    await site.add_device(simulator, name="Device")
    await wait_for(lambda: simulator.stream_count == 1)

    simulator.inject("bogus_time")
    serial_no = simulator.emit_access(5, 75, employee_no="5")
    await wait_for(lambda: len(site.access(TERMINAL)) == 1)

    (event,) = site.access(TERMINAL)
    assert event["serial_no"] == serial_no
    assert not event["time"].startswith("0000")  # when the hub received it, not 0000-00-00
    status, stored = await site.admin.get(f"/api/hikvision/devices/{TERMINAL}/events")
    assert status == 200 and stored[0]["serial_no"] == serial_no
    assert stored[0]["time"] == "" and stored[0]["timestamp"] is None  # the device's time is unknown, not invented


async def test_html_error_pages_are_survived(site: HikSite, caplog: pytest.LogCaptureFixture) -> None:
    simulator = await site.device_sim(TERMINAL, kind="access")
    await site.add_device(simulator, name="Device")
    await wait_for(lambda: simulator.stream_count == 1)
    direct = direct_of(site, TERMINAL)

    simulator.inject("html_error", count=2)  # the next two requests answer a 500 HTML page
    simulator.disconnect_streams()

    await wait_for(lambda: simulator.stream_count == 1 and direct.streams_opened >= 2, timeout=10)
    assert any("HTML" in record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING)
    serial_no = simulator.emit_access(5, 75, employee_no="6")
    await wait_for(lambda: [e["serial_no"] for e in site.access(TERMINAL)] == [serial_no], timeout=10)
    assert site.hub.is_running
