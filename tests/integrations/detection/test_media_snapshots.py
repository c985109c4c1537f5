"""Event snapshots: the best frame as JPEG at full resolution, with the box and "label 87%" drawn, and clean."""

from __future__ import annotations

import time

import av
import cv2
import numpy as np

from hub.stream_frame import Frame
from integrations.detection.boxes import Box
from integrations.detection.snapshots import BOX_COLOUR, SNAPSHOT_QUALITY, snapshot_jpegs

WIDTH, HEIGHT = 1280, 720


def make_frame() -> Frame:
    """A dark grey scene with a textured block, like a camera picture (JPEG-friendly, no pure colours)."""
    rng = np.random.default_rng(7)
    image = np.full((HEIGHT, WIDTH, 3), 60, np.uint8)
    image[300:600, 500:700] = rng.integers(80, 140, (300, 200, 3), dtype=np.uint8)
    return Frame(av.VideoFrame.from_ndarray(image, format="bgr24"), time.time(), 1)


def decode(jpeg: bytes) -> np.ndarray:
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def near(pixel: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(colour)) <= tolerance))


def test_annotated_and_clean_snapshots() -> None:
    frame = make_frame()
    original = frame.ndarray("bgr24").copy()
    box = Box(500.0, 300.0, 700.0, 600.0, "normal", 0.873)
    annotated_jpeg, clean_jpeg = snapshot_jpegs(frame, box, "person", 0.873)
    annotated, clean = decode(annotated_jpeg), decode(clean_jpeg)
    assert annotated.shape == clean.shape == (HEIGHT, WIDTH, 3)  # full resolution

    # the clean one is the frame itself (JPEG at quality 85: close, not identical)
    assert float(np.mean(np.abs(clean.astype(int) - original.astype(int)))) < 3.0
    # the shared frame was not drawn on: other consumers still see the camera's picture
    assert np.array_equal(frame.ndarray("bgr24"), original)

    # the box outline on all four edges; the picture away from the box is untouched
    for x, y in [(600, 300), (600, 600), (500, 450), (700, 450)]:
        assert near(annotated[y, x], BOX_COLOUR), (x, y, annotated[y, x])
        assert not near(clean[y, x], BOX_COLOUR)
    far = (slice(100, 200), slice(100, 300))
    assert float(np.mean(np.abs(annotated[far].astype(int) - clean[far].astype(int)))) < 1.0

    # the tag above the box: filled with the box colour, with dark text in it
    tag = annotated[260:298, 502:640]
    amber = np.mean([near(pixel, BOX_COLOUR) for pixel in tag.reshape(-1, 3)])
    dark = np.mean([pixel.max() < 90 for pixel in tag.reshape(-1, 3)])
    assert amber > 0.5 and dark > 0.05, (amber, dark)


def test_the_tag_reads_label_and_percentage() -> None:
    """Different labels and confidences draw different text: the tag is rendered from them, not fixed."""
    frame = make_frame()
    box = Box(500.0, 300.0, 700.0, 600.0, "normal", 0.5)
    first, _ = snapshot_jpegs(frame, box, "person", 0.87)
    same, _ = snapshot_jpegs(frame, box, "person", 0.871)  # rounds to the same 87%
    other, _ = snapshot_jpegs(frame, box, "person", 0.42)
    assert first == same
    assert first != other
    region = (slice(250, 300), slice(500, 700))
    assert not np.array_equal(decode(first)[region], decode(other)[region])


def test_a_box_at_the_top_edge_keeps_its_tag_inside_the_picture() -> None:
    frame = make_frame()
    box = Box(1100.0, 0.0, 1279.0, 200.0, "person", 0.99)
    annotated, _ = snapshot_jpegs(frame, box, "person", 0.99)
    image = decode(annotated)
    tag = image[2:30, 1105:1270]  # drawn inside the box's top, shifted left to fit
    assert np.mean([near(pixel, BOX_COLOUR) for pixel in tag.reshape(-1, 3)]) > 0.5


def test_quality_85_by_default() -> None:
    frame = make_frame()
    box = Box(10.0, 10.0, 50.0, 50.0, "person", 0.9)
    default, _ = snapshot_jpegs(frame, box, "person", 0.9)
    explicit, _ = snapshot_jpegs(frame, box, "person", 0.9, quality=SNAPSHOT_QUALITY)
    lower, _ = snapshot_jpegs(frame, box, "person", 0.9, quality=40)
    assert SNAPSHOT_QUALITY == 85 and default == explicit and len(lower) < len(default)
