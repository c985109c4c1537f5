"""A camera's config entry data through the hub's real config entries: per-type requirements, defaults from the
manufacturer, the legacy ``rtsp_url`` parsed into fields, and errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config_entries import InvalidConfigEntry
from hub.core import Hub
from hub.tenants import Tenant
from integrations.cameras.const import DOMAIN
from integrations.cameras.source import source_for


async def add(hub: Hub, tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
    entry = await hub.config_entries.add(DOMAIN, data, tenant_id=tenant.id, setup=False)
    return dict(entry.data)


async def test_a_legacy_rtsp_url_is_stored_as_fields(hub: Hub, tenant: Tenant) -> None:
    data = await add(hub, tenant, {"rtsp_url": "rtsp://admin:p%40ss@gate-cam.example:554/stream1"})
    assert data["connection_type"] == "rtsp"
    assert (data["host"], data["port"], data["path"]) == ("gate-cam.example", 554, "/stream1")
    assert (data["username"], data["password"]) == ("admin", "p@ss")
    assert "rtsp_url" not in data
    source = source_for(data)
    assert source.stream_url == "rtsp://admin:p%40ss@gate-cam.example:554/stream1"
    assert source.stream_options == {"rtsp_transport": "tcp"}
    assert source.describe()["stream_url"] == "rtsp://admin:***@gate-cam.example:554/stream1"


async def test_fields_beside_a_url_win(hub: Hub, tenant: Tenant) -> None:
    data = await add(hub, tenant, {"url": "rtsp://cam-a.example/a", "port": 8554, "rtsp_transport": "udp"})
    assert data["port"] == 8554
    assert source_for(data).stream_url == "rtsp://cam-a.example:8554/a"
    assert source_for(data).stream_options == {"rtsp_transport": "udp"}


async def test_the_manufacturer_gives_the_path_port_and_channel(hub: Hub, tenant: Tenant) -> None:
    data = await add(hub, tenant, {"connection_type": "rtsp", "host": "cam-b.example", "manufacturer": "Dahua",
                                   "stream": "sub", "channel": 2, "username": "admin", "password": "x y"})  # fmt: skip
    assert data["manufacturer"] == "dahua" and data["port"] == 554
    assert data["path"] == "/cam/realmonitor?channel={channel}&subtype=1"  # the template, filled per use
    assert source_for(data).stream_url == "rtsp://admin:x%20y@cam-b.example:554/cam/realmonitor?channel=2&subtype=1"


async def test_an_nvr_channel_uses_the_recorders_template(hub: Hub, tenant: Tenant) -> None:
    data = await add(hub, tenant, {"connection_type": "nvr_channel", "host": "nvr", "manufacturer": "hikvision",
                                   "channel": 4})  # fmt: skip
    assert source_for(data).stream_url == "rtsp://nvr:554/Streaming/Channels/401"
    with pytest.raises(InvalidConfigEntry) as error:
        await add(hub, tenant, {"connection_type": "nvr_channel", "host": "nvr"})
    assert set(error.value.fields) == {"manufacturer"}


async def test_snapshot_cameras_fetch_over_http_with_query_credentials_filled(hub: Hub, tenant: Tenant) -> None:
    data = await add(hub, tenant, {"connection_type": "http_snapshot", "host": "cam", "manufacturer": "foscam",
                                   "username": "admin", "password": "s&cret"})  # fmt: skip
    source = source_for(data)
    assert source.stream_url is None
    assert source.snapshot_url == "http://cam:88/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=s%26cret"
    assert "s%26cret" not in repr(source.describe())


async def test_mjpeg_hls_file_and_usb_sources(hub: Hub, tenant: Tenant) -> None:
    mjpeg = source_for(await add(hub, tenant, {"url": "https://cam:8443/mjpg/video.mjpg", "username": "u",
                                               "password": "p"}))  # fmt: skip
    assert (mjpeg.stream_url, mjpeg.stream_format) == ("https://u:p@cam:8443/mjpg/video.mjpg", "mpjpeg")
    hls = source_for(await add(hub, tenant, {"url": "http://cam/live.m3u8"}))
    assert (hls.connection_type, hls.stream_url) == ("hls", "http://cam:80/live.m3u8")
    file = source_for(await add(hub, tenant, {"url": "/srv/video/gate.mp4"}))
    assert (file.connection_type, file.stream_url, file.stream_format) == ("file", "/srv/video/gate.mp4", None)
    usb = source_for(await add(hub, tenant, {"connection_type": "usb"}))
    assert (usb.stream_url, usb.stream_format) == ("/dev/video0", "v4l2")


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, {"connection_type"}),
        ({"connection_type": "rtsp", "path": "/live"}, {"host"}),
        ({"connection_type": "rtsp", "host": "cam"}, {"path"}),  # generic: no template to guess from
        ({"connection_type": "rtsp", "host": "cam", "manufacturer": "nest"}, {"path"}),  # cloud only
        ({"connection_type": "rtsp", "host": "cam", "manufacturer": "acme", "path": "/x"}, {"manufacturer"}),
        ({"connection_type": "rtsp", "host": "rtsp://cam", "path": "/x"}, {"host"}),
        ({"connection_type": "rtsp", "host": "cam", "path": "/x", "port": 70000}, {"port"}),
        ({"connection_type": "rtsp", "host": "cam", "path": "/x", "rtsp_transport": "sctp"}, {"rtsp_transport"}),
        ({"connection_type": "file", "path": "relative.mp4"}, {"path"}),
        ({"connection_type": "usb", "path": "/tmp/x"}, {"path"}),
        ({"connection_type": "warp"}, {"connection_type"}),
        ({"rtsp_url": "ftp://cam/x"}, {"rtsp_url"}),
        ({"rtsp_url": 5}, {"rtsp_url"}),
        ({"url": "rtsp://cam/x", "snapshot_url": "cam/snap.jpg"}, {"snapshot_url"}),
        ({"url": "rtsp://cam/x", "colour": "blue"}, {"colour"}),
    ],
)
async def test_bad_data_names_the_field(hub: Hub, tenant: Tenant, data: dict[str, Any], fields: set[str]) -> None:
    with pytest.raises(InvalidConfigEntry) as error:
        await add(hub, tenant, data)
    assert set(error.value.fields) == fields, error.value.fields
    assert all(reason for reason in error.value.fields.values())


async def test_cloud_only_brands_explain_why_there_is_no_path(hub: Hub, tenant: Tenant) -> None:
    with pytest.raises(InvalidConfigEntry) as error:
        await add(hub, tenant, {"connection_type": "rtsp", "host": "cam", "manufacturer": "ring"})
    assert "cloud" in error.value.fields["path"].lower()
