"""Manufacturer profiles and camera URLs: every brand of the issue is there, templates become URLs with quoted
credentials, a bare URL becomes entry fields, and nothing returned or logged carries a password."""

from __future__ import annotations

import pytest

from integrations.cameras.profiles import PROFILES, profile_for
from integrations.cameras.urls import (
    CameraUrlError,
    fill_template,
    generate_urls,
    parse_camera_url,
    split_userinfo,
    with_credentials,
)

BRANDS = [
    *("Hikvision", "Dahua", "Axis", "Bosch", "Hanwha", "Avigilon", "Foscam", "TP-Link", "Reolink", "Xiaomi"),
    *("Vivotek", "Uniview", "Nest", "Ring", "Arlo", "Wyze", "Sony", "Panasonic", "Mobotix", "Generic", "Amcrest"),
    *("UniFi", "Eufy"),
]


def test_every_brand_of_the_issue_has_a_profile() -> None:
    assert len(PROFILES) >= 23
    for brand in BRANDS:
        profile = profile_for(brand)
        assert profile is not None, brand
        assert profile.templates or profile.cloud_only, brand
    cloud = {profile.key for profile in PROFILES if profile.cloud_only}
    assert cloud == {"nest", "ring", "arlo", "wyze"}
    for key in cloud:
        assert "cloud" in (profile_for(key).notes or "").lower()  # type: ignore[union-attr]


def test_aliases_and_display_names_find_the_profile() -> None:
    assert profile_for("tapo").key == "tplink"  # type: ignore[union-attr]
    assert profile_for("Samsung").key == "hanwha"  # type: ignore[union-attr]
    assert profile_for("HIKVISION").key == "hikvision"  # type: ignore[union-attr]
    assert profile_for("nobody") is None


def test_hikvision_urls_follow_the_reference_table() -> None:
    urls = {url.stream: url for url in generate_urls(profile_for("hikvision"), "192.0.2.10", username="admin",  # type: ignore[arg-type]
                                                      password="pass", channel=1)}  # fmt: skip
    assert urls["main"].url == "rtsp://admin:pass@192.0.2.10:554/Streaming/Channels/101"
    assert urls["sub"].url == "rtsp://admin:pass@192.0.2.10:554/Streaming/Channels/102"
    assert urls["snapshot"].url == "http://admin:pass@192.0.2.10:80/ISAPI/Streaming/channels/101/picture"
    channel3 = generate_urls(profile_for("hikvision"), "192.0.2.10", channel=3)  # type: ignore[arg-type]
    assert channel3[0].url == "rtsp://192.0.2.10:554/Streaming/Channels/301"


def test_channels_fill_every_placeholder_style() -> None:
    assert fill_template("/cam/realmonitor?channel={channel}&subtype=0", channel=4) == (
        "/cam/realmonitor?channel=4&subtype=0"
    )
    assert fill_template("/h264Preview_{channel2}_main", channel=3) == "/h264Preview_03_main"
    assert fill_template("/bcs/channel{channel0}_main.bcs", channel=1) == "/bcs/channel0_main.bcs"
    assert fill_template("/{literal}/x", channel=2) == "/{literal}/x"  # other braces are the user's own


def test_credentials_are_quoted_and_never_returned() -> None:
    password = "p@ss:w/rd?#"
    urls = generate_urls(profile_for("reolink"), "cam.local", username="ad min", password=password)  # type: ignore[arg-type]
    main = next(url for url in urls if url.stream == "main" and url.connection_type == "rtsp")
    assert main.url == "rtsp://ad%20min:p%40ss%3Aw%2Frd%3F%23@cam.local:554/h264Preview_01_main"
    assert split_userinfo(main.url) == ("rtsp://cam.local:554/h264Preview_01_main", "ad min", password)
    rtmp = next(url for url in urls if url.connection_type == "rtmp" and url.stream == "main")
    assert "password=p%40ss%3Aw%2Frd%3F%23" in rtmp.url and "@" not in rtmp.url.split("?")[0]
    for url in urls:
        shown = url.as_dict()
        text = repr(shown)
        assert "p%40ss" not in text and password not in text, shown
    assert generate_urls(profile_for("foscam"), "h")[-1].as_dict()["url"].endswith("usr=&pwd=***")  # type: ignore[arg-type]


def test_with_credentials_keeps_existing_ones() -> None:
    assert with_credentials("rtsp://cama.test:554/a?b=1", "u", "p w") == "rtsp://u:p%20w@cama.test:554/a?b=1"
    assert with_credentials("rtsp://x:y@cama.test/a", "u", "p") == "rtsp://x:y@cama.test/a"
    assert with_credentials("rtsp://cama.test/a", "", "") == "rtsp://cama.test/a"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "rtsp://admin:p%40ss@cam-c.example:554/stream1",
            {"connection_type": "rtsp", "host": "cam-c.example", "port": 554, "path": "/stream1",
             "username": "admin", "password": "p@ss"},
        ),
        ("rtsp://cama.test/cam/realmonitor?channel=1&subtype=0",
         {"connection_type": "rtsp", "host": "cama.test", "port": 554, "path": "/cam/realmonitor?channel=1&subtype=0"}),
        ("rtsps://[fd00::5]:7441/abcdef",
         {"connection_type": "rtsps", "host": "fd00::5", "port": 7441, "path": "/abcdef"}),
        ("rtmp://cam:1935/bcs/channel0_main.bcs", {"connection_type": "rtmp", "host": "cam", "port": 1935,
                                                   "path": "/bcs/channel0_main.bcs", "tls": False}),
        ("http://cam/axis-cgi/mjpg/video.cgi", {"connection_type": "http_mjpeg", "host": "cam", "port": 80,
                                                "path": "/axis-cgi/mjpg/video.cgi", "tls": False}),
        ("https://cam/snap.jpg", {"connection_type": "http_snapshot", "host": "cam", "port": 443, "path": "/snap.jpg",
                                  "tls": True}),
        ("http://cam:8080/live/index.m3u8", {"connection_type": "hls", "host": "cam", "port": 8080,
                                             "path": "/live/index.m3u8", "tls": False}),
        ("/var/video/gate.mp4", {"connection_type": "file", "path": "/var/video/gate.mp4"}),
        ("/dev/video2", {"connection_type": "usb", "path": "/dev/video2"}),
    ],
)  # fmt: skip
def test_a_bare_url_becomes_entry_fields(url: str, expected: dict[str, object]) -> None:
    assert parse_camera_url(url) == expected


@pytest.mark.parametrize("url", ["", "ftp://cam/x", "rtsp:///nohost", "rtsp://cam:99999/x"])
def test_urls_that_describe_no_camera_are_refused(url: str) -> None:
    with pytest.raises(CameraUrlError):
        parse_camera_url(url)
