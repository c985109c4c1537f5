"""Which ISAPI event types become which binary sensor: data, like the major/minor table.

Cameras name the same detection differently across firmware (``VMD``, ``motiondetection``); each maps to one
sensor kind per channel, with the device class the dashboard words it by (motion: detected/clear, tamper:
tampered/clear, problem: problem/OK). Event types not listed still fire ``hikvision_event``, without a sensor.
"""

from __future__ import annotations

from typing import NamedTuple


class Detection(NamedTuple):
    """A sensor kind: its key in entity ids, its label, its device class, and whether it is per channel."""

    key: str
    label: str
    device_class: str
    per_channel: bool = True


MOTION = Detection("motion", "motion", "motion")
LINE_CROSSING = Detection("line_crossing", "line crossing", "motion")
INTRUSION = Detection("intrusion", "intrusion", "motion")
REGION_ENTRANCE = Detection("region_entrance", "region entrance", "motion")
REGION_EXITING = Detection("region_exiting", "region exiting", "motion")
TAMPER = Detection("tamper", "tamper", "tamper")
IO = Detection("io", "alarm input", "safety")
PIR = Detection("pir", "PIR", "motion")
FACE = Detection("face", "face detection", "occupancy")
SCENE_CHANGE = Detection("scene_change", "scene change", "problem")
DEFOCUS = Detection("defocus", "defocus", "problem")
VIDEO_LOSS = Detection("video_loss", "video loss", "problem")
BAGGAGE = Detection("baggage", "unattended baggage", "problem")
DISK = Detection("disk_problem", "disk problem", "problem", per_channel=False)
NETWORK = Detection("network_problem", "network problem", "problem", per_channel=False)
ILLEGAL_ACCESS = Detection("illegal_access", "illegal access", "problem", per_channel=False)
RECORDING = Detection("recording_problem", "recording problem", "problem", per_channel=False)

#: ``eventType`` in lower case -> sensor kind (REFERENCE §2b, pyHik's SENSOR_MAP, hikvision_next's const).
BY_EVENT_TYPE: dict[str, Detection] = {
    "vmd": MOTION,
    "motiondetection": MOTION,
    "vmdhumanvehicle": MOTION,
    "linedetection": LINE_CROSSING,
    "fielddetection": INTRUSION,
    "regionentrance": REGION_ENTRANCE,
    "regionexiting": REGION_EXITING,
    "tamperdetection": TAMPER,
    "shelteralarm": TAMPER,
    "io": IO,
    "pir": PIR,
    "facedetection": FACE,
    "scenechangedetection": SCENE_CHANGE,
    "defocus": DEFOCUS,
    "videoloss": VIDEO_LOSS,
    "attendedbaggage": BAGGAGE,
    "unattendedbaggage": BAGGAGE,
    "diskfull": DISK,
    "diskerror": DISK,
    "nicbroken": NETWORK,
    "ipconflict": NETWORK,
    "illaccess": ILLEGAL_ACCESS,
    "recordingfailure": RECORDING,
}

BY_KEY: dict[str, Detection] = {detection.key: detection for detection in BY_EVENT_TYPE.values()}


def detection_for(event_type: str) -> Detection | None:
    return BY_EVENT_TYPE.get(event_type.lower())


def sensor_key(detection: Detection, channel: int | None) -> str:
    """The unique-id suffix of a sensor: ``motion_1`` (channel 1), ``disk_problem`` (device-wide)."""
    if not detection.per_channel:
        return detection.key
    return f"{detection.key}_{channel if channel is not None else 1}"


def parse_sensor_key(key: str) -> tuple[Detection, int | None] | None:
    """The inverse of ``sensor_key`` (entities restored from the registry at start); None for other keys."""
    if key in BY_KEY and not BY_KEY[key].per_channel:
        return BY_KEY[key], None
    kind, _, channel = key.rpartition("_")
    detection = BY_KEY.get(kind)
    if detection is None or not detection.per_channel or not channel.isdigit():
        return None
    return detection, int(channel)
