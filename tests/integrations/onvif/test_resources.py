"""No leaks: file descriptors and camera subscription slots before and after many set-up/unload cycles and probes."""

from __future__ import annotations

import gc
import os

from hub.testing import wait_for
from integrations.onvif.probe import probe_onvif
from integrations.onvif.simulator import OnvifSimulator

from .conftest import PASSWORD, OnvifSite


def open_fds() -> int:
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


async def test_entry_cycles_leave_no_descriptors_behind(site: OnvifSite, camera: OnvifSimulator) -> None:
    async def cycle() -> None:
        entry = await site.add(camera)
        await wait_for(lambda: site.state("binary_sensor.gate_camera_motion") == "off")  # events subscribed
        onvif = site.device(entry)
        assert onvif.camera is not None and await onvif.camera.async_camera_image() is not None  # snapshot session
        await site.hub.config_entries.remove(entry.entry_id)

    await cycle()  # warm-up: WSDL documents and the database's connections are made once
    before = open_fds()
    for _ in range(20):
        await cycle()
    assert open_fds() <= before + 2
    # Never unsubscribed, yet no slot leaked: each set-up renewed the subscription the one before left.
    assert camera.calls.count("CreatePullPointSubscription") == 1
    assert len(camera.events.subscriptions) == 1 and "Unsubscribe" not in camera.calls


async def test_probes_leave_no_descriptors_behind(camera: OnvifSimulator) -> None:
    await probe_onvif("127.0.0.1", camera.port, "admin", PASSWORD)
    before = open_fds()
    for _ in range(30):
        assert await probe_onvif("127.0.0.1", camera.port, "admin", PASSWORD) is not None
    assert open_fds() <= before + 2
