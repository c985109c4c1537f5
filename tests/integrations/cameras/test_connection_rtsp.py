"""RTSP connection types end to end: a config entry per camera, its entity's snapshot through the hub's stream
manager from a real GStreamer RTSP server (TCP and UDP, a recorder's channel, TLS), an ONVIF camera whose stream
is found through GetStreamUri, and health from a DESCRIBE that tells wrong paths and credentials apart."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from hub.config_entries import ConfigEntry
from hub.core import Hub
from hub.device_health import HealthLevel
from hub.device_registry import DeviceStatus
from hub.tenants import Tenant
from hub.testing.rtsp import RtspServer, RtspServerFactory
from integrations.cameras.const import DOMAIN
from integrations.cameras.entity import ConfiguredCamera
from integrations.onvif.simulator import OnvifSimulator

from .conftest import RtspsServer


async def add_camera(hub: Hub, tenant: Tenant, data: dict[str, Any]) -> tuple[ConfigEntry, ConfiguredCamera]:
    entry = await hub.config_entries.add(DOMAIN, data, tenant_id=tenant.id, title=data.get("name"))
    assert entry.state == "loaded", entry.reason
    camera = entry.runtime_data
    assert isinstance(camera, ConfiguredCamera)
    return entry, camera


def size_of(jpeg: bytes | None) -> tuple[int, int]:
    assert jpeg is not None and jpeg.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(jpeg)) as image:
        return image.size


async def test_rtsp_over_tcp_gives_snapshots_health_and_stream_stats(
    hub: Hub, tenant: Tenant, rtsp_server: RtspServer
) -> None:
    _entry, camera = await add_camera(hub, tenant, {"name": "Gate", "url": rtsp_server.url})
    assert camera.entity_id == "camera.gate" and camera.tenant_id == tenant.id
    assert size_of(await camera.async_camera_image()) == (1280, 720)
    assert size_of(await camera.async_camera_image(width=320)) == (320, 180)
    assert await camera.health.check_now() in (HealthLevel.EXCELLENT, HealthLevel.GOOD)  # type: ignore[union-attr]
    state = hub.states.get("camera.gate")
    assert state is not None and state.attributes["stream_width"] == 1280
    assert state.attributes["stream_codec"] == "h264"
    assert state.attributes["stream_url"] == rtsp_server.url and state.attributes["connection_type"] == "rtsp"
    device = hub.devices.get(camera.device_id)  # type: ignore[arg-type]
    assert device is not None and device.status is DeviceStatus.ACTIVE and device.tenant_id == tenant.id
    assert hub.states.get(f"sensor.{camera.health.key}_health").state in ("excellent", "good")  # type: ignore[union-attr]


async def test_rtsp_over_udp(hub: Hub, tenant: Tenant, rtsp_server: RtspServer) -> None:
    _, camera = await add_camera(hub, tenant, {"url": rtsp_server.url_for("/sub"), "rtsp_transport": "udp"})
    assert camera.stream_options == {"rtsp_transport": "udp"}
    assert size_of(await camera.async_camera_image()) == (640, 360)


async def test_an_nvr_channel_with_digest_credentials(
    hub: Hub, tenant: Tenant, rtsp_server_factory: RtspServerFactory
) -> None:
    nvr = await rtsp_server_factory(mounts={"/Streaming/Channels/301": (640, 360, 10)}, username="admin",
                                    password="nvr pass")  # fmt: skip
    data = {"connection_type": "nvr_channel", "host": "127.0.0.1", "port": nvr.port, "manufacturer": "hikvision",
            "channel": 3, "username": "admin", "password": "nvr pass"}  # fmt: skip
    _, camera = await add_camera(hub, tenant, data)
    assert await camera.stream_source() == f"rtsp://admin:nvr%20pass@127.0.0.1:{nvr.port}/Streaming/Channels/301"
    assert size_of(await camera.async_camera_image()) == (640, 360)
    assert await camera.health.check_now() is not HealthLevel.OFFLINE  # type: ignore[union-attr]


async def test_rtsps_through_tls(hub: Hub, tenant: Tenant, rtsps_server: RtspsServer) -> None:
    _, camera = await add_camera(hub, tenant, {"url": rtsps_server.url})
    assert (await camera.stream_source() or "").startswith("rtsps://127.0.0.1:")
    assert size_of(await camera.async_camera_image()) == (640, 360)
    assert await camera.health.check_now() is not HealthLevel.OFFLINE  # type: ignore[union-attr]


async def test_wrong_credentials_stop_the_retries_with_a_clear_message(
    hub: Hub, tenant: Tenant, rtsp_server_factory: RtspServerFactory
) -> None:
    server = await rtsp_server_factory(username="admin", password="right")
    _, camera = await add_camera(hub, tenant, {"url": server.url_for("/live", password="wrong"), "name": "Door"})
    health = camera.health
    assert health is not None
    assert await health.check_now() is HealthLevel.AUTH_FAILED
    assert "credentials" in (health.last_error or "") and health.retries_stopped
    assert hub.states.get("camera.door").state == "unavailable"  # type: ignore[union-attr]
    assert "wrong" not in repr(hub.states.get("camera.door").attributes)  # type: ignore[union-attr]
    assert hub.devices.get(camera.device_id).status is DeviceStatus.OFFLINE  # type: ignore[arg-type,union-attr]


async def test_a_wrong_path_and_a_dead_server_are_offline_with_their_reason(
    hub: Hub, tenant: Tenant, rtsp_server: RtspServer
) -> None:
    _, camera = await add_camera(hub, tenant, {"url": rtsp_server.url_for("/nope"), "name": "Yard"})
    assert await camera.health.check_now() is HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert "404" in (camera.health.last_error or "")  # type: ignore[union-attr]
    assert camera.health.next_retry_at is not None  # type: ignore[union-attr]  # on the back-off table
    _, live = await add_camera(hub, tenant, {"url": rtsp_server.url, "name": "Lane"})
    assert await live.health.check_now() is not HealthLevel.OFFLINE  # type: ignore[union-attr]
    await rtsp_server.async_stop()
    assert await live.health.check_now() is HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert hub.states.get("camera.lane").state == "unavailable"  # type: ignore[union-attr]
    await rtsp_server.async_start()
    assert await live.health.reconnect() is not HealthLevel.OFFLINE  # type: ignore[union-attr]
    assert hub.states.get("camera.lane").state != "unavailable"  # type: ignore[union-attr]


async def test_an_onvif_camera_gets_its_stream_from_get_stream_uri(
    hub: Hub, tenant: Tenant, rtsp_server: RtspServer
) -> None:
    async with OnvifSimulator(rtsp_url=rtsp_server.url, sub_rtsp_url=rtsp_server.url_for("/sub"), username="admin",
                              password="onvif", serial_number="DS-2CD-0042") as onvif:  # fmt: skip
        data = {"connection_type": "onvif", "host": "127.0.0.1", "port": onvif.port, "username": "admin",
                "password": "onvif", "stream": "sub", "name": "Hall"}  # fmt: skip
        entry, camera = await add_camera(hub, tenant, data)
        source = await camera.stream_source()
        assert source is not None and source.endswith("/sub") and "admin:onvif@" in source
        assert size_of(await hub.streams.snapshot(camera)) == (640, 360)  # the stream
        assert (await camera.async_camera_image() or b"").startswith(b"\xff\xd8")  # GetSnapshotUri, over HTTP auth
        device = hub.devices.get(camera.device_id)  # type: ignore[arg-type]
        assert device is not None and device.serial_number == "DS-2CD-0042"
        await hub.config_entries.unload(entry.entry_id)
        # Wrong credentials: the entry fails without retrying (cameras lock accounts).
        bad = await hub.config_entries.add(DOMAIN, {**data, "password": "nope"}, tenant_id=tenant.id)
        assert bad.state == "setup_error" and "refused the credentials" in (bad.reason or "")
    # Nothing answers any more: not ready, retried on the core's back-off.
    gone = await hub.config_entries.add(DOMAIN, data, tenant_id=tenant.id)
    assert gone.state == "setup_retry" and "ONVIF" in (gone.reason or "")
