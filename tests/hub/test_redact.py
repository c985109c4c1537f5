"""Credentials never leave the hub inside a URL: logs and API answers see ``***``."""

from __future__ import annotations

from hub.redact import redact_url


def test_redact_hides_userinfo_and_query_passwords() -> None:
    assert redact_url("rtsp://admin:secret@camera.example/stream1") == "rtsp://admin:***@camera.example/stream1"
    assert redact_url("http://h:88/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=secret") == (
        "http://h:88/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=***"
    )
    assert redact_url("rtsp://camera.example/stream1") == "rtsp://camera.example/stream1"
    assert redact_url("http://u:p@[::1]:8080/a?token=abc&x=1") == "http://u:***@[::1]:8080/a?token=***&x=1"
    assert redact_url("rtsp://admin:p@host:notaport/x") == "***"
