"""Which packets a clip takes: the ring's trimming and the window's selection, on a real H.264 file's packets with
receive times laid out as a camera would deliver them (no waiting on a live stream)."""

from __future__ import annotations

import io

import av
import pytest

from hub.camera import Camera
from hub.core import Hub
from hub.stream_frame import EncodedPacket, StreamInfo
from hub.testing.rtsp import make_video_file
from integrations.detection.clips import ClipRecorder, remux_mp4, stream_template

FPS = 10
GOP = 10
T0 = 1_795_000_000.0

Recording = tuple[StreamInfo, bytes, list[EncodedPacket]]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """30 s of 10 fps H.264 (a keyframe a second) as the camera's packets, received at T0 + pts."""
    path = make_video_file(tmp_path_factory.mktemp("clips") / "yard.mp4", fps=FPS, seconds=30, gop=GOP)
    with av.open(str(path), "r") as container:
        video = container.streams.video[0]
        template = stream_template(video)
        info = StreamInfo(
            "h264", video.width, video.height, FPS, video.time_base, video.codec_context.extradata, 1, "mp4"
        )
        packets = [
            EncodedPacket(
                bytes(p), p.pts, p.dts, p.duration, p.time_base, p.is_keyframe, 1, T0 + float(p.pts * p.time_base)
            )
            for p in container.demux(video)
            if p.size and p.pts is not None and p.time_base is not None
        ]
    return info, template, packets


def recorder_with(hub: Hub, recording: Recording, **options: float) -> ClipRecorder:
    info, template, _ = recording
    camera = Camera(name="Yard", unique_id="yard", source="/nonexistent.mp4")
    camera.entity_id = "camera.yard"
    recorder = ClipRecorder(hub, camera, **options)  # type: ignore[arg-type]
    recorder.sessions[1] = (info, template)
    return recorder


def feed(recorder: ClipRecorder, packets: list[EncodedPacket], until: float) -> None:
    for packet in packets:
        if packet.time <= until:
            recorder._add(packet)


def span(packets: list[EncodedPacket]) -> tuple[float, float]:
    return packets[0].time - T0, packets[-1].time - T0


async def test_the_window_starts_on_the_keyframe_before_the_pre_roll(hub: Hub, recording: Recording) -> None:
    recorder = recorder_with(hub, recording, pre_roll=2.0, post_roll=1.5)
    recorder.hold("event", T0 + 12.4)  # what the detection start event does
    feed(recorder, recording[2], T0 + 20)
    packets, session = recorder.select(T0 + 12.4 - 2.0, T0 + 15.0 + 1.5)
    assert session is not None and session[0].codec == "h264"
    assert packets[0].is_keyframe and span(packets) == pytest.approx((10.0, 16.5))  # keyframe at 10 s <= 10.4 s
    data = remux_mp4(session[1] or b"", packets)
    with av.open(io.BytesIO(data), "r") as clip:
        assert clip.duration is not None and clip.duration / 1e6 == pytest.approx(6.6, abs=0.11)  # 66 frames


async def test_without_a_hold_the_ring_keeps_only_the_pre_roll(hub: Hub, recording: Recording) -> None:
    recorder = recorder_with(hub, recording, pre_roll=2.0, post_roll=1.0)
    feed(recorder, recording[2], T0 + 20)
    first, last = span(list(recorder.ring))
    assert recorder.ring[0].is_keyframe and first == pytest.approx(18.0) and last == pytest.approx(20.0)
    packets, _ = recorder.select(T0 + 5.0, T0 + 9.0)  # long gone
    assert packets == []


async def test_a_long_event_keeps_its_last_max_length(hub: Hub, recording: Recording) -> None:
    recorder = recorder_with(hub, recording, pre_roll=1.0, post_roll=1.0, max_length=5.0)
    recorder.hold("event", T0 + 2.0)
    feed(recorder, recording[2], T0 + 24)  # the event ended at 23 s: the post-roll is in
    assert span(list(recorder.ring))[0] == pytest.approx(24.0 - 7.0)  # pre + max + post, back to a keyframe
    packets, _ = recorder.select(T0 + 2.0 - 1.0, T0 + 24.0)
    assert packets[0].is_keyframe and span(packets) == pytest.approx((17.0, 24.0))


async def test_the_byte_budget_drops_whole_groups(hub: Hub, recording: Recording) -> None:
    packets = recording[2]
    group = sum(len(p.data) for p in packets[:GOP])
    recorder = recorder_with(hub, recording, pre_roll=10.0, post_roll=1.0, max_bytes=3 * group)
    feed(recorder, packets, T0 + 20)
    assert recorder.ring_bytes <= 3 * group + max(len(p.data) for p in packets[:GOP])
    assert recorder.ring[0].is_keyframe and span(list(recorder.ring))[0] >= 20 - 4.0


async def test_a_clip_never_mixes_two_sessions(hub: Hub, recording: Recording) -> None:
    info, template, packets = recording
    recorder = recorder_with(hub, recording, pre_roll=1.0, post_roll=1.0)
    recorder.sessions[2] = (info, template)
    recorder.hold("event", T0)
    reconnected = [
        EncodedPacket(p.data, p.pts, p.dts, p.duration, p.time_base, p.is_keyframe, 2, p.time + 10.0)
        for p in packets[:50]
    ]
    feed(recorder, packets[:60], T0 + 6.0)  # session 1: 0 .. 5.9 s
    feed(recorder, reconnected, T0 + 20)  # session 2 (the camera reconnected): 10 .. 14.9 s
    before, _ = recorder.select(T0 + 3.0, T0 + 12.0)
    assert {p.session for p in before} == {1} and span(before) == pytest.approx((3.0, 5.9))
    after, _ = recorder.select(T0 + 7.0, T0 + 13.0)
    assert {p.session for p in after} == {2} and span(after)[0] == pytest.approx(10.0)
