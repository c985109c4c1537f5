"""An event's snapshot: the frame of its best sighting as JPEG, once with the box and "label 87%" drawn, once clean.

Blocking (a 720p frame takes a few milliseconds to draw and encode twice): call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    from hub.stream_frame import Frame
    from integrations.detection.boxes import Box

__all__ = ["BOX_COLOUR", "SNAPSHOT_QUALITY", "draw_box", "encode_jpeg", "snapshot_jpegs"]

SNAPSHOT_QUALITY = 85
BOX_COLOUR = (0, 200, 255)  # BGR: amber, readable on day and night pictures
TEXT_COLOUR = (0, 0, 0)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def encode_jpeg(image: np.ndarray[Any, Any], quality: int = SNAPSHOT_QUALITY) -> bytes:
    """A BGR array as JPEG bytes."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"cannot encode a {image.shape} picture as JPEG")
    return encoded.tobytes()


def draw_box(image: np.ndarray[Any, Any], box: Box, text: str) -> np.ndarray[Any, Any]:
    """A copy of ``image`` with ``box`` outlined and ``text`` on a filled tag above it (inside when at the top)."""
    canvas = np.array(image, copy=True)
    height, width = canvas.shape[:2]
    scale = max(0.5, min(width, height) / 720.0)
    thickness = max(2, round(2 * scale))
    x1 = int(np.clip(round(box.x1), 0, width - 1))
    y1 = int(np.clip(round(box.y1), 0, height - 1))
    x2 = int(np.clip(round(box.x2), 0, width - 1))
    y2 = int(np.clip(round(box.y2), 0, height - 1))
    cv2.rectangle(canvas, (x1, y1), (x2, y2), BOX_COLOUR, thickness)
    font_scale = 0.7 * scale
    (text_width, text_height), baseline = cv2.getTextSize(text, _FONT, font_scale, max(1, thickness // 2))
    pad = max(3, thickness)
    tag_height = text_height + baseline + 2 * pad
    top = y1 - tag_height if y1 - tag_height >= 0 else y1
    left = min(x1, max(0, width - text_width - 2 * pad))
    cv2.rectangle(canvas, (left, top), (left + text_width + 2 * pad, top + tag_height), BOX_COLOUR, cv2.FILLED)
    cv2.putText(
        canvas,
        text,
        (left + pad, top + pad + text_height),
        _FONT,
        font_scale,
        TEXT_COLOUR,
        max(1, thickness // 2),
        cv2.LINE_AA,
    )
    return canvas


def snapshot_jpegs(
    frame: Frame, box: Box, label: str, confidence: float, *, quality: int = SNAPSHOT_QUALITY
) -> tuple[bytes, bytes]:
    """``(annotated, clean)`` JPEGs of ``frame`` at full resolution; the tag reads e.g. ``person 87%``."""
    image = frame.ndarray("bgr24")  # shared with other consumers: draw on a copy only
    text = f"{label} {round(confidence * 100)}%"
    return encode_jpeg(draw_box(image, box, text), quality), encode_jpeg(image, quality)
