"""Event clips from real cameras (a video file and an RTSP stream): pre-roll, post-roll, remuxed, never re-encoded."""

from __future__ import annotations

import io
import struct
import time
from pathlib import Path
from typing import Any

import av

from hub.camera import Camera
from hub.core import Hub
from hub.detection import EVENT_DETECTION
from hub.stream_frame import EncodedPacket
from hub.tenants import Tenant
from hub.testing import wait_for
from hub.testing.rtsp import RtspServer, RtspServerFactory, make_video_file
from integrations.detection.clips import ClipRecorder

FPS = 10
GOP = 10  # one keyframe a second


async def add_camera(hub: Hub, tenant: Tenant, url: str, name: str = "Yard") -> Camera:
    entry = await hub.config_entries.add("cameras", {"url": url, "name": name}, tenant_id=tenant.id, title=name)
    assert entry.state == "loaded", entry.reason
    camera = entry.runtime_data
    assert isinstance(camera, Camera)
    return camera


def covers(recorder: ClipRecorder, seconds: float) -> bool:
    return bool(recorder.ring) and recorder.last_time - recorder.ring[0].time >= seconds


def open_clip(data: bytes) -> tuple[Any, list[av.Packet]]:
    container = av.open(io.BytesIO(data), "r")
    stream = container.streams.video[0]
    return container, [packet for packet in container.demux(stream) if packet.size]


def annex_b_units(data: bytes) -> list[bytes]:
    """NAL units of an Annex B packet (RTSP): split at 00 00 01 / 00 00 00 01 start codes."""
    units, start = [], data.find(b"\x00\x00\x01")
    while start != -1:
        begin = start + 3
        start = data.find(b"\x00\x00\x01", begin)
        units.append(data[begin : len(data) if start == -1 else start].rstrip(b"\x00"))  # zeros: byte-stream padding
    return units


def length_prefixed_units(data: bytes) -> list[bytes]:
    """NAL units of an MP4 sample: each after its 4-byte big-endian length."""
    units, offset = [], 0
    while offset < len(data):
        (size,) = struct.unpack(">I", data[offset : offset + 4])
        units.append(data[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return units


async def test_a_clip_of_a_file_camera_is_its_own_packets(hub: Hub, tenant: Tenant, tmp_path: Path) -> None:
    source = make_video_file(tmp_path / "yard.mp4", width=640, height=360, fps=FPS, seconds=30, gop=GOP)
    with av.open(str(source), "r") as original:
        video = original.streams.video[0]
        source_extradata = video.codec_context.extradata
        source_packets = [bytes(packet) for packet in original.demux(video) if packet.size]
    camera = await add_camera(hub, tenant, str(source))
    recorder = ClipRecorder(hub, camera, pre_roll=1.0, post_roll=1.0)
    await recorder.start()
    try:
        await wait_for(lambda: covers(recorder, 1.0), timeout=20)
        start = recorder.last_time
        end = start + 1.0  # an event of one second, still going on when the clip is asked for
        began = time.time()
        data = await recorder.clip(start, end)
        assert time.time() >= end + 1.0 - 0.2 or time.time() - began >= 1.5  # it waited for the post-roll
    finally:
        await recorder.stop()
    assert data is not None
    assert data[4:8] == b"ftyp" and data.index(b"moov") < data.index(b"mdat")  # faststart: plays while loading
    container, packets = open_clip(data)
    with container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 640, 360)
        assert stream.codec_context.extradata == source_extradata  # the camera's own parameter sets
        clip_bytes = [bytes(packet) for packet in packets]
        first = source_packets.index(clip_bytes[0])
        assert clip_bytes == source_packets[first : first + len(clip_bytes)]  # byte for byte: no re-encoding
        assert packets[0].is_keyframe
        seconds = len(packets) / FPS  # pre-roll + event + post-roll, plus at most a keyframe interval
        assert 3.0 - 0.2 <= seconds <= 3.0 + GOP / FPS + 0.3, seconds
        assert container.duration is not None and abs(container.duration / 1e6 - seconds) <= 0.15
    with av.open(io.BytesIO(data), "r") as decoded:
        assert sum(1 for _ in decoded.decode(video=0)) == len(packets)  # every frame decodes from the first


async def test_a_clip_of_an_rtsp_camera_plays_as_h264_in_mp4(hub: Hub, tenant: Tenant, rtsp_server: RtspServer) -> None:
    camera = await add_camera(hub, tenant, rtsp_server.url_for("/sub"), name="Gate")
    recorder = ClipRecorder(hub, camera, pre_roll=1.0, post_roll=0.5)
    await recorder.start()
    try:
        await wait_for(lambda: covers(recorder, 1.0), timeout=30)
        start = recorder.last_time
        recorder.hold("test", start)  # keep what the clip is made of, to compare with afterwards
        data = await recorder.clip(start, start + 1.0)
        used, session = recorder.select(start - recorder.pre_roll, start + 1.0 + recorder.post_roll)
    finally:
        await recorder.stop()
    assert data is not None and session is not None
    info, _ = session
    container, packets = open_clip(data)
    with container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 640, 360)
        assert stream.codec_tag == "avc1"  # what browsers' MP4 demuxers expect
        assert stream.codec_context.extradata[0] == 1  # an avcC record made from the stream's SPS/PPS
        assert info.extradata and annex_b_units(info.extradata)[0] in stream.codec_context.extradata
        print(
            "DBG",
            [(p.pts, p.dts, p.size, p.is_keyframe) for p in packets][:4],
            [(p.pts, p.dts, len(p.data), p.is_keyframe) for p in used][:4],
            [(p.pts, p.dts) for p in packets][-2:],
            [(p.pts, p.dts) for p in used][-2:],
        )
        assert len(packets) == len(used) and packets[0].is_keyframe
        for ours, theirs in zip(packets, used, strict=True):  # the same NAL units, only re-framed for MP4
            assert length_prefixed_units(bytes(ours)) == annex_b_units(theirs.data)
        assert container.duration is not None and 2.5 - 0.2 <= container.duration / 1e6 <= 2.5 + 1.0 + 0.3
    with av.open(io.BytesIO(data), "r") as decoded:
        assert sum(1 for _ in decoded.decode(video=0)) == len(packets)


async def test_the_ring_is_bounded_and_open_events_extend_it(hub: Hub, tenant: Tenant, tmp_path: Path) -> None:
    gop = 5  # a keyframe every half second
    source = make_video_file(tmp_path / "lane.mp4", width=640, height=360, fps=FPS, seconds=30, gop=gop)
    camera = await add_camera(hub, tenant, str(source), name="Lane")
    recorder = ClipRecorder(hub, camera, pre_roll=0.5, post_roll=0.5)
    await recorder.start()
    try:
        await wait_for(lambda: covers(recorder, 0.5), timeout=20)
        opened = recorder.last_time
        await wait_for(lambda: recorder.last_time - opened >= 1.5, timeout=10)
        ring: list[EncodedPacket] = list(recorder.ring)
        assert ring[0].is_keyframe
        assert recorder.last_time - ring[0].time <= 0.5 + gop / FPS + 0.2  # pre-roll back to a keyframe, no more

        # a detection event on this camera keeps everything from its start (less the pre-roll) until it is taken
        event_start = recorder.last_time
        hub.bus.fire(
            EVENT_DETECTION,
            {"camera": camera.entity_id, "type": "start", "event_id": "e1", "start": event_start, "label": "person"},
            tenant_id=tenant.id,
        )
        hub.bus.fire(EVENT_DETECTION, {"camera": "camera.other", "type": "start", "event_id": "e2", "start": 0.0})
        await wait_for(lambda: recorder.last_time - event_start >= 1.5, timeout=10)
        assert recorder.ring[0].time <= event_start - 0.5
        recorder.release("e1")
        mark = recorder.last_time
        await wait_for(lambda: recorder.last_time - mark >= gop / FPS + 0.2, timeout=10)
        assert recorder.last_time - recorder.ring[0].time <= 0.5 + gop / FPS + 0.2  # back to the pre-roll only

        # a byte budget smaller than the pre-roll: whole groups of pictures go, the ring still starts on a keyframe
        recorder.max_bytes = 1
        mark = recorder.last_time
        await wait_for(lambda: recorder.last_time - mark >= gop / FPS + 0.2, timeout=10)
        assert recorder.ring[0].is_keyframe
        assert all(not packet.is_keyframe for packet in list(recorder.ring)[1:])  # one group at most
    finally:
        await recorder.stop()


async def test_no_clip_without_video_or_for_mjpeg(
    hub: Hub, tenant: Tenant, tmp_path: Path, rtsp_server_factory: RtspServerFactory
) -> None:
    missing = await add_camera(hub, tenant, str(tmp_path / "gone.mp4"), name="Gone")
    recorder = ClipRecorder(hub, missing, pre_roll=1.0, post_roll=1.0)
    await recorder.start()
    try:
        began = time.monotonic()
        assert await recorder.clip(time.time() - 5, time.time() - 3) is None
        assert time.monotonic() - began < recorder.wait_grace  # no waiting on a stream that is not there
    finally:
        await recorder.stop()

    server = await rtsp_server_factory(codec="mjpeg", mounts={"/mjpeg": (320, 240, 10)})
    camera = await add_camera(hub, tenant, server.url_for("/mjpeg"), name="Old")
    recorder = ClipRecorder(hub, camera, pre_roll=0.5, post_roll=0.2)
    await recorder.start()
    try:
        await wait_for(lambda: bool(recorder.sessions), timeout=30)
        [(info, template)] = recorder.sessions.values()
        assert info.codec == "mjpeg" and template is None
        began = time.monotonic()
        assert await recorder.clip(time.time() - 1, time.time()) is None
        assert time.monotonic() - began < 1.0  # known at once: nothing to wait for
        assert not recorder.ring  # packets an MP4 cannot carry as they are are not even kept
    finally:
        await recorder.stop()
