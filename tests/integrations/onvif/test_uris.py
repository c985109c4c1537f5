"""Stream URIs made usable: credentials injected and quoted, hosts the hub cannot reach replaced.

Only loopback is ever connected to; other hosts appear as ``.invalid`` names (RFC 6761), never resolved.
"""

from __future__ import annotations

import asyncio

from integrations.onvif.uris import usable_uri, with_credentials, with_host


def test_credentials_are_injected_and_quoted() -> None:
    assert with_credentials("rtsp://cam.invalid:554/Streaming/101", "admin", "p@ss:w/rd") == (
        "rtsp://admin:p%40ss%3Aw%2Frd@cam.invalid:554/Streaming/101"
    )
    assert with_credentials("rtsp://cam.invalid/live", "viewer", "") == "rtsp://viewer@cam.invalid/live"


def test_uris_that_carry_credentials_or_no_user_are_kept() -> None:
    assert with_credentials("rtsp://u:p@cam.invalid/live", "admin", "x") == "rtsp://u:p@cam.invalid/live"
    assert with_credentials("rtsp://cam.invalid/live", "", "x") == "rtsp://cam.invalid/live"


def test_another_host_keeps_port_path_query_and_credentials() -> None:
    assert (
        with_host("rtsp://u:p@lan-cam.invalid:8554/ch1?subtype=0", "127.0.0.1")
        == "rtsp://u:p@127.0.0.1:8554/ch1?subtype=0"
    )
    assert with_host("rtsp://lan-cam.invalid/ch1", "::1") == "rtsp://[::1]/ch1"


async def test_the_configured_host_is_kept() -> None:
    assert await usable_uri("rtsp://127.0.0.1:9/live", "127.0.0.1") == ("rtsp://127.0.0.1:9/live", False)


async def test_an_unspecified_host_is_replaced_without_trying_it() -> None:
    assert await usable_uri("rtsp://0.0.0.0:8554/live", "127.0.0.1") == ("rtsp://127.0.0.1:8554/live", True)


async def test_an_unreachable_host_is_replaced_and_a_reachable_one_kept(unused_port: int) -> None:
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", unused_port)  # IPv4 loopback only
    try:
        # The device says ::1, where nothing listens: its configured address is used instead.
        assert await usable_uri(f"rtsp://[::1]:{unused_port}/live", "127.0.0.1", timeout=1.0) == (
            f"rtsp://127.0.0.1:{unused_port}/live",
            True,
        )
        # Another name for a host that answers is the device's choice: kept.
        assert await usable_uri(f"rtsp://localhost:{unused_port}/live", "127.0.0.1") == (
            f"rtsp://localhost:{unused_port}/live",
            False,
        )
    finally:
        server.close()
        await server.wait_closed()
