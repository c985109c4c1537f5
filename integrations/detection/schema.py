"""What ``detection`` accepts: the hub-wide ``detection:`` section of configuration.yaml and one camera's entry.

Entry data is stored as JSON, so the entry schema returns plain data (zones stay lists of points) after checking
everything that can be checked without the hub: zones go through ``zones.parse_zones`` (a bad polygon is refused
with its reason and its path, ``zones[1].polygon``); whether the model file loads and the camera exists is checked
at set-up, where the config directory and the entity registry are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.core import valid_entity_id

from .const import (
    BACKENDS,
    CONF_BACKEND,
    CONF_CAMERA,
    CONF_CLIPS,
    CONF_DAYS,
    CONF_FPS,
    CONF_IMGSZ,
    CONF_LABEL_MAP,
    CONF_LABELS,
    CONF_MAX_BATCH,
    CONF_MAX_SIZE_GB,
    CONF_MEDIA,
    CONF_MIN_AREA,
    CONF_MIN_CONFIDENCE,
    CONF_MODEL,
    CONF_MOTION,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_RETENTION,
    CONF_SNAPSHOTS,
    CONF_THREADS,
    CONF_THRESHOLD,
    CONF_ZONES,
    DEFAULT_FPS,
    DEFAULT_IMGSZ,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_SIZE_GB,
    DEFAULT_MEDIA_PATH,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MOTION_MIN_AREA,
    DEFAULT_MOTION_THRESHOLD,
    DEFAULT_POST_ROLL,
    DEFAULT_PRE_ROLL,
    DEFAULT_RETENTION_DAYS,
    IMAGE_SIZES,
)

__all__ = ["CONFIG_ENTRY_SCHEMA", "CONFIG_SCHEMA", "DEFAULT_MOTION", "motion_settings"]

DEFAULT_MOTION: dict[str, float] = {CONF_THRESHOLD: DEFAULT_MOTION_THRESHOLD, CONF_MIN_AREA: DEFAULT_MOTION_MIN_AREA}


def _camera_entity(value: Any) -> str:
    text = str(value).strip().lower()
    if not valid_entity_id(text) or not text.startswith("camera."):
        raise vol.Invalid("expected a camera entity id such as camera.gate")
    return text


def _model_path(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise vol.Invalid("expected the path of a .onnx or .pt model file")
    return text


def _label(value: Any) -> str:
    text = str(value).strip().lower()
    if not text:
        raise vol.Invalid("a label cannot be empty")
    return text


def _labels(value: Any) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise vol.Invalid("expected a label or a list of labels")
    return list(dict.fromkeys(_label(item) for item in items))


def _label_map(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise vol.Invalid("expected a mapping of model labels to labels, e.g. {normal: person, fall: person}")
    return {_label(source): _label(target) for source, target in value.items()}


_FRACTION = vol.All(vol.Coerce(float), vol.Range(min=0.0, max=1.0, msg="expected a fraction between 0 and 1"))

_MOTION_SETTINGS = vol.Schema(
    {
        vol.Optional(CONF_THRESHOLD, default=DEFAULT_MOTION_THRESHOLD): vol.All(
            vol.Coerce(float), vol.Range(min=0.001, max=1.0, msg="expected a grey-level fraction from 0.001 to 1")
        ),
        vol.Optional(CONF_MIN_AREA, default=DEFAULT_MOTION_MIN_AREA): vol.All(
            vol.Coerce(float), vol.Range(min=0.0, max=1.0, msg="expected a fraction of the picture from 0 to 1")
        ),
    }
)


def _motion(value: Any) -> dict[str, float] | bool:
    """``false`` (always detect), ``true`` (the defaults) or the gate's settings."""
    if value is False:
        return False
    if value is True or value is None:
        return dict(DEFAULT_MOTION)
    return dict(_MOTION_SETTINGS(value))


def motion_settings(data: Mapping[str, Any]) -> tuple[float, float] | None:
    """(threshold, min_area) of an entry's motion gate, or None when the gate is off."""
    motion = data.get(CONF_MOTION, DEFAULT_MOTION)
    if not motion:
        return None
    return float(motion[CONF_THRESHOLD]), float(motion[CONF_MIN_AREA])


def _zones_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise vol.Invalid("expected a list of zones ({name, polygon, kind})")
    for index, zone in enumerate(value):
        if not isinstance(zone, Mapping):
            raise vol.Invalid("expected a zone: {name, polygon, kind}", path=[index])
    return [dict(zone) for zone in value]


def _valid_zones(data: dict[str, Any]) -> dict[str, Any]:
    """Run the zones through ``parse_zones`` at the root, so its errors keep the path ``zones[i].polygon``."""
    from .zones import parse_zones

    raw = data.get(CONF_ZONES) or []
    try:
        zones = parse_zones(raw)
    except vol.Invalid as err:
        path = list(err.path)
        if not path or path[0] != CONF_ZONES:
            path = [CONF_ZONES, *path]
        raise vol.Invalid(err.error_message or str(err), path=path) from None
    data[CONF_ZONES] = [zone.as_dict() for zone in zones]
    return data


CONFIG_ENTRY_SCHEMA = vol.Schema(
    vol.All(
        vol.Schema(
            {
                vol.Required(CONF_CAMERA): _camera_entity,
                vol.Required(CONF_MODEL): _model_path,
                vol.Optional(CONF_IMGSZ, default=DEFAULT_IMGSZ): vol.All(
                    vol.Coerce(int), vol.In(IMAGE_SIZES, msg=f"expected one of {', '.join(map(str, IMAGE_SIZES))}")
                ),
                vol.Optional(CONF_BACKEND, default="auto"): vol.In(
                    BACKENDS, msg=f"expected one of {', '.join(BACKENDS)}"
                ),
                vol.Optional(CONF_LABELS, default=list): _labels,
                vol.Optional(CONF_LABEL_MAP, default=dict): _label_map,
                vol.Optional(CONF_MIN_CONFIDENCE, default=DEFAULT_MIN_CONFIDENCE): _FRACTION,
                vol.Optional(CONF_FPS, default=DEFAULT_FPS): vol.All(
                    vol.Coerce(float), vol.Range(min=0.1, max=30.0, msg="expected 0.1 to 30 frames per second")
                ),
                vol.Optional(CONF_MOTION, default=lambda: dict(DEFAULT_MOTION)): _motion,
                vol.Optional(CONF_ZONES, default=list): _zones_list,
                vol.Optional(CONF_SNAPSHOTS, default=True): bool,
                vol.Optional(CONF_CLIPS, default=True): bool,
            }
        ),
        _valid_zones,
    )
)

_SECONDS = vol.All(vol.Coerce(float), vol.Range(min=0.0, max=600.0, msg="expected 0 to 600 seconds"))
_OPTIONAL_POSITIVE = vol.Any(None, vol.All(vol.Coerce(float), vol.Range(min=0.0, min_included=False)))

CONFIG_SCHEMA = vol.Schema(
    {
        # The media store's own options (local folder or S3) are checked by media_store_from_config at start.
        vol.Optional(CONF_MEDIA, default=lambda: {"path": DEFAULT_MEDIA_PATH}): vol.Schema(dict),
        vol.Optional(
            CONF_RETENTION, default=lambda: {CONF_DAYS: DEFAULT_RETENTION_DAYS, CONF_MAX_SIZE_GB: DEFAULT_MAX_SIZE_GB}
        ): vol.Schema(
            {
                vol.Optional(CONF_DAYS, default=DEFAULT_RETENTION_DAYS): _OPTIONAL_POSITIVE,
                vol.Optional(CONF_MAX_SIZE_GB, default=DEFAULT_MAX_SIZE_GB): _OPTIONAL_POSITIVE,
            }
        ),
        vol.Optional(
            CONF_CLIPS, default=lambda: {CONF_PRE_ROLL: DEFAULT_PRE_ROLL, CONF_POST_ROLL: DEFAULT_POST_ROLL}
        ): vol.Schema(
            {
                vol.Optional(CONF_PRE_ROLL, default=DEFAULT_PRE_ROLL): _SECONDS,
                vol.Optional(CONF_POST_ROLL, default=DEFAULT_POST_ROLL): _SECONDS,
            }
        ),
        vol.Optional(CONF_MAX_BATCH, default=DEFAULT_MAX_BATCH): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=64, msg="expected 1 to 64 frames")
        ),
        vol.Optional(CONF_THREADS): vol.All(vol.Coerce(int), vol.Range(min=1, max=256, msg="expected 1 to 256")),
    }
)
