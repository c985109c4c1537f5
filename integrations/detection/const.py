"""Names and defaults of the ``detection`` integration, shared by its modules."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "detection"
INTEGRATION_NAME: Final = "Object detection"

# ------------------------------------------------------------------ configuration.yaml (hub-wide section)
CONF_MEDIA: Final = "media"
CONF_RETENTION: Final = "retention"
CONF_DAYS: Final = "days"
CONF_MAX_SIZE_GB: Final = "max_size_gb"
CONF_CLIPS: Final = "clips"
CONF_PRE_ROLL: Final = "pre_roll"
CONF_POST_ROLL: Final = "post_roll"
CONF_MAX_BATCH: Final = "max_batch"
CONF_THREADS: Final = "threads"

# ---------------------------------------------------------------------------- config entry (one camera)
CONF_CAMERA: Final = "camera"
CONF_MODEL: Final = "model"
CONF_IMGSZ: Final = "imgsz"
CONF_BACKEND: Final = "backend"
CONF_LABELS: Final = "labels"
CONF_LABEL_MAP: Final = "label_map"
CONF_MIN_CONFIDENCE: Final = "min_confidence"
CONF_FPS: Final = "fps"
CONF_MOTION: Final = "motion"
CONF_THRESHOLD: Final = "threshold"
CONF_MIN_AREA: Final = "min_area"
CONF_ZONES: Final = "zones"
CONF_SNAPSHOTS: Final = "snapshots"
# CONF_CLIPS (above) is also the per-camera switch.

IMAGE_SIZES: Final = (320, 416, 480, 512, 640)
BACKENDS: Final = ("auto", "onnxruntime", "ultralytics")

DEFAULT_IMGSZ: Final = 320
DEFAULT_FPS: Final = 5.0
DEFAULT_MIN_CONFIDENCE: Final = 0.5
DEFAULT_MOTION_THRESHOLD: Final = 0.02
DEFAULT_MOTION_MIN_AREA: Final = 0.002
DEFAULT_MEDIA_PATH: Final = "media"
DEFAULT_RETENTION_DAYS: Final = 14.0
DEFAULT_MAX_SIZE_GB: Final = 20.0
DEFAULT_PRE_ROLL: Final = 5.0
DEFAULT_POST_ROLL: Final = 5.0
DEFAULT_MAX_BATCH: Final = 4

#: Seconds between two refreshes of the statistics sensors (never per frame).
STATS_INTERVAL: Final = 5.0
#: Seconds between two runs of media retention.
RETENTION_INTERVAL: Final = 3600.0
#: Seconds a detection entry waits at set-up for its camera's entry to finish loading before "not ready".
CAMERA_WAIT: Final = 10.0
#: Seconds between two attempts to resume detection after the camera's stream ended.
STREAM_RETRY_DELAY: Final = 5.0
#: The class-agnostic non-maximum suppression after the label map (one person seen as "normal" and "fall").
LABEL_NMS_IOU: Final = 0.6

#: URL of an event's snapshot (served by the events API).
SNAPSHOT_URL: Final = "/api/detection/events/{event_id}/snapshot.jpg"
