"""ONVIF event topics (REFERENCE.md §4.4) as data: which topic drives which binary sensor, and how to read it.

A message's topic is normalised (trailing ``//.`` or ``/`` stripped, any prefix accepted for a known ONVIF path),
looked up in ``TOPIC_RULES``, and its data item read as a boolean. Events that are not properties (a line
crossing) turn their sensor on for ``pulse`` seconds. Topics not in the table are reported by the caller once.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree


class SensorKind(enum.StrEnum):
    MOTION = "motion"
    TAMPER = "tamper"
    LINE_CROSSING = "line_crossing"
    INTRUSION = "intrusion"
    DIGITAL_INPUT = "digital_input"


@dataclass(frozen=True, slots=True)
class KindInfo:
    label: str
    device_class: str | None
    icon: str


KINDS: Mapping[SensorKind, KindInfo] = {
    SensorKind.MOTION: KindInfo("motion", "motion", "mdi:motion-sensor"),
    SensorKind.TAMPER: KindInfo("tamper", "tamper", "mdi:shield-alert"),
    SensorKind.LINE_CROSSING: KindInfo("line crossing", "motion", "mdi:ray-start-arrow"),
    SensorKind.INTRUSION: KindInfo("intrusion", "motion", "mdi:shield-home"),
    SensorKind.DIGITAL_INPUT: KindInfo("digital input", None, "mdi:electric-switch"),
}


@dataclass(frozen=True, slots=True)
class TopicRule:
    """``key`` names the sensor in unique ids; ``data_item`` holds the boolean; ``source_item`` tells sensors of the
    same topic apart (one per input, per video source); ``pulse`` is for events that have no "off" message."""

    topic: str
    key: str
    kind: SensorKind
    data_item: str | None
    source_item: str | None = None
    pulse: float | None = None


TOPIC_RULES: tuple[TopicRule, ...] = (
    TopicRule("tns1:RuleEngine/CellMotionDetector/Motion", "cell_motion", SensorKind.MOTION, "IsMotion",
              "VideoSourceConfigurationToken"),
    TopicRule("tns1:VideoSource/MotionAlarm", "motion_alarm", SensorKind.MOTION, "State", "Source"),
    TopicRule("tns1:RuleEngine/MotionRegionDetector/Motion", "region_motion", SensorKind.MOTION, "State",
              "VideoSourceConfigurationToken"),
    TopicRule("tns1:Device/Trigger/MotionDetector", "motion_detector", SensorKind.MOTION, "State"),
    TopicRule("tns1:RuleEngine/TamperDetector/Tamper", "tamper", SensorKind.TAMPER, "IsTamper",
              "VideoSourceConfigurationToken"),
    TopicRule("tns1:VideoSource/GlobalSceneChange/ImagingService", "scene_change", SensorKind.TAMPER, "State",
              "Source"),
    TopicRule("tns1:RuleEngine/LineDetector/Crossed", "line_crossed", SensorKind.LINE_CROSSING, None, "Rule",
              pulse=5.0),
    TopicRule("tns1:RuleEngine/LineCrossDetector/LineCross", "line_cross", SensorKind.LINE_CROSSING, "IsLineCross",
              "Rule", pulse=5.0),
    TopicRule("tns1:RuleEngine/FieldDetector/ObjectsInside", "field", SensorKind.INTRUSION, "IsInside", "Rule"),
    TopicRule("tns1:Device/Trigger/DigitalInput", "digital_input", SensorKind.DIGITAL_INPUT, "LogicalState",
              "InputToken"),
)  # fmt: skip

_RULES = {rule.topic.partition(":")[2]: rule for rule in TOPIC_RULES}
_TRUE = frozenset({"true", "1", "on", "active", "yes"})
_FALSE = frozenset({"false", "0", "off", "inactive", "no"})


@dataclass(frozen=True, slots=True)
class OnvifEvent:
    topic: str
    operation: str | None
    time: dt.datetime | None
    source: Mapping[str, str]
    data: Mapping[str, str]


def normalize_topic(text: str) -> str:
    """``tns1:RuleEngine/CellMotionDetector/Motion//.`` -> ``tns1:RuleEngine/CellMotionDetector/Motion``; a known
    ONVIF path under another prefix (``ns0:Device/Trigger/DigitalInput``) gets ``tns1``."""
    topic = text.strip()
    while topic.endswith(("//.", "/")):
        topic = topic.removesuffix("//.").removesuffix("/")
    prefix, colon, path = topic.partition(":")
    if colon and path in _RULES and prefix != "tns1":
        return f"tns1:{path}"
    return topic


def rule_for(topic: str) -> TopicRule | None:
    prefix, _, path = topic.partition(":")
    return _RULES.get(path) if prefix == "tns1" else None


def boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    text = value.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def state_of(rule: TopicRule, event: OnvifEvent) -> bool | None:
    """On or off, per the rule's data item (or the only item a device sent); a pulse event is always on."""
    value = event.data.get(rule.data_item) if rule.data_item else None
    if value is None and len(event.data) == 1:
        value = next(iter(event.data.values()))
    state = boolean(value)
    if state is None and rule.pulse is not None:
        return True
    return state


def source_of(rule: TopicRule, event: OnvifEvent) -> str:
    if rule.source_item and rule.source_item in event.source:
        return event.source[rule.source_item]
    return ""


def _items(container: Any) -> dict[str, str]:
    items = getattr(container, "SimpleItem", None) or []
    return {str(item.Name): str(item.Value) for item in items if getattr(item, "Name", None) is not None}


def parse_notification(message: Any) -> OnvifEvent | None:
    """A zeep NotificationMessage as an OnvifEvent; None when it has no topic or no tt:Message."""
    topic = getattr(getattr(message, "Topic", None), "_value_1", None)
    body = getattr(getattr(message, "Message", None), "_value_1", None)
    if not isinstance(topic, str) or body is None or isinstance(body, str | bytes):
        return None
    if isinstance(body, etree._Element):  # a tt:Message zeep could not map: read the XML itself
        return _from_element(topic, body)
    time = getattr(body, "UtcTime", None)
    return OnvifEvent(
        topic=normalize_topic(topic),
        operation=getattr(body, "PropertyOperation", None),
        time=time if isinstance(time, dt.datetime) else None,  # Hikvision sends 0000-00-00T00:00:00Z
        source=_items(getattr(body, "Source", None)),
        data=_items(getattr(body, "Data", None)),
    )


def _element_items(body: etree._Element, part: str) -> dict[str, str]:
    items = body.xpath(f"*[local-name()='{part}']/*[local-name()='SimpleItem']")
    return {str(item.get("Name")): str(item.get("Value", "")) for item in items if item.get("Name") is not None}


def _from_element(topic: str, body: etree._Element) -> OnvifEvent:
    return OnvifEvent(
        topic=normalize_topic(topic),
        operation=body.get("PropertyOperation"),
        time=None,
        source=_element_items(body, "Source"),
        data=_element_items(body, "Data"),
    )
