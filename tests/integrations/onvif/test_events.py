"""PullPoint events against the simulated camera: subscribe, pull, renew, re-subscribe, never unsubscribe; and
the topic table that turns messages into sensor states."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.testing import wait_for
from integrations.onvif.client import OnvifClient
from integrations.onvif.events import PullPointEvents
from integrations.onvif.simulator import OnvifSimulator
from integrations.onvif.topics import OnvifEvent, SensorKind, normalize_topic, rule_for, source_of, state_of

from .conftest import PASSWORD, SimulatorFactory

MOTION = "tns1:RuleEngine/CellMotionDetector/Motion"


class Recorder:
    def __init__(self) -> None:
        self.events: list[OnvifEvent] = []

    def __call__(self, events: list[OnvifEvent]) -> None:
        self.events.extend(events)

    def topics(self, operation: str | None = None) -> list[str]:
        return [event.topic for event in self.events if operation is None or event.operation == operation]


@pytest.fixture
async def client(camera: OnvifSimulator) -> AsyncIterator[OnvifClient]:
    client = OnvifClient("127.0.0.1", camera.port, "admin", PASSWORD)
    await client.connect()
    yield client
    await client.close()


def start(client: OnvifClient, recorder: Recorder, **timings: float) -> PullPointEvents:
    events = PullPointEvents(client, recorder, name="test camera", pull_timeout=timings.pop("pull_timeout", 1.0),
                             **timings)  # type: ignore[arg-type]  # fmt: skip
    events.start(lambda coroutine, name: asyncio.get_running_loop().create_task(coroutine, name=name))
    return events


async def test_initial_states_then_changes_arrive(camera: OnvifSimulator, client: OnvifClient) -> None:
    recorder = Recorder()
    events = start(client, recorder)
    try:
        await wait_for(lambda: len(recorder.topics("Initialized")) == 3)
        camera.emit(MOTION, {"IsMotion": "true"})
        await wait_for(lambda: recorder.topics("Changed") == [MOTION])
    finally:
        await events.stop()
    change = recorder.events[-1]
    assert change.data == {"IsMotion": "true"}
    assert change.source["VideoSourceConfigurationToken"] == "VideoSourceConfig"
    assert change.time is not None
    assert events.subscriptions == 1


async def test_subscription_is_renewed_and_never_unsubscribed(camera: OnvifSimulator, client: OnvifClient) -> None:
    recorder = Recorder()
    events = start(client, recorder, subscription_seconds=10.0, renew_after=0.3, pull_timeout=0.1)
    await wait_for(lambda: events.renewals >= 2, timeout=5.0)
    (subscription,) = camera.events.subscriptions.values()
    await events.stop()

    assert subscription.renewals >= 2
    assert "Unsubscribe" not in camera.calls and camera.events.unsubscribed == []
    assert events.subscriptions == 1  # renewing kept the same subscription
    assert camera.calls.count("CreatePullPointSubscription") == 1


async def test_a_stopped_loop_hands_its_subscription_to_the_next(camera: OnvifSimulator, client: OnvifClient) -> None:
    first = start(client, Recorder())
    await wait_for(lambda: first.received == 3)
    live = await first.stop()
    assert live is not None

    recorder = Recorder()
    second = start(client, recorder, resume=live)  # type: ignore[arg-type]
    try:
        await wait_for(lambda: len(recorder.topics("Initialized")) == 3)  # SetSynchronizationPoint re-sent them
        camera.emit(MOTION, {"IsMotion": "true"})
        await wait_for(lambda: recorder.topics("Changed") == [MOTION])
    finally:
        await second.stop()
    assert (first.subscriptions, second.subscriptions) == (1, 0)
    assert len(camera.events.subscriptions) == 1 and camera.calls.count("Renew") == 1


async def test_a_subscription_the_camera_forgot_is_not_resumed(camera: OnvifSimulator, client: OnvifClient) -> None:
    first = start(client, Recorder())
    await wait_for(lambda: first.received == 3)
    live = await first.stop()
    camera.events.expire_all()  # rebooted in between
    second = start(client, Recorder(), resume=live)  # type: ignore[arg-type]
    try:
        await wait_for(lambda: second.subscriptions == 1 and second.received == 3)
    finally:
        await second.stop()
    assert second.resumed == 0


async def test_a_dropped_subscription_is_replaced_at_once(camera: OnvifSimulator, client: OnvifClient) -> None:
    recorder = Recorder()
    events = start(client, recorder, pull_timeout=0.2, retry_delay=60.0)
    try:
        await wait_for(lambda: events.subscriptions == 1 and len(recorder.events) == 3)
        camera.events.expire_all()  # the camera rebooted
        await wait_for(lambda: events.subscriptions == 2)
        camera.emit(MOTION, {"IsMotion": "true"})
        await wait_for(lambda: MOTION in recorder.topics("Changed"))
    finally:
        await events.stop()
    assert events.last_error is None


async def test_an_unreachable_camera_is_retried_after_the_delay(
    simulator_factory: SimulatorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    camera = await simulator_factory()
    client = OnvifClient("127.0.0.1", camera.port, "admin", PASSWORD, timeout=2.0)
    await client.connect()
    await camera.stop()
    recorder = Recorder()
    events = start(client, recorder, retry_delay=0.1)
    try:
        await wait_for(lambda: events.failures >= 3)  # a few retries, each failing the same way
        await camera.start()
        await wait_for(lambda: events.subscriptions == 1 and len(recorder.events) == 3, timeout=5.0)
    finally:
        await events.stop()
        await client.close()
    interrupted = [record for record in caplog.records if "events interrupted" in record.getMessage()]
    assert len(interrupted) == 1  # logged once, not once per retry


async def test_a_camera_without_pull_points_is_left_alone(camera: OnvifSimulator, client: OnvifClient) -> None:
    camera._handlers["events"].clear()  # the events service answers ActionNotSupported to everything
    events = start(client, Recorder(), retry_delay=0.05)
    await wait_for(lambda: not events.supported and not events.running)
    assert camera.calls.count("CreatePullPointSubscription") == 1
    await events.stop()


async def test_a_refused_password_stops_the_loop(camera: OnvifSimulator, client: OnvifClient) -> None:
    camera.reconfigure(password="changed on the camera")
    events = start(client, Recorder(), retry_delay=0.01)
    await wait_for(lambda: not events.running)
    assert events.failures == 1 and "refused the credentials" in str(events.last_error)
    assert camera.auth_failures == 1  # one try, not one every retry_delay: accounts get locked


def test_topics_are_normalised() -> None:
    assert normalize_topic("tns1:RuleEngine/CellMotionDetector/Motion//.") == MOTION
    assert normalize_topic(" tns1:VideoSource/MotionAlarm/ ") == "tns1:VideoSource/MotionAlarm"
    assert normalize_topic("ns2:Device/Trigger/DigitalInput") == "tns1:Device/Trigger/DigitalInput"
    assert normalize_topic("tnsaxis:CameraApplicationPlatform/VMD/Camera1Profile1") == (
        "tnsaxis:CameraApplicationPlatform/VMD/Camera1Profile1"
    )
    assert rule_for("tnsaxis:CameraApplicationPlatform/VMD/Camera1Profile1") is None


def event(topic: str, data: dict[str, str], source: dict[str, str] | None = None) -> OnvifEvent:
    return OnvifEvent(topic, "Changed", None, source or {}, data)


@pytest.mark.parametrize(
    ("topic", "data", "kind", "on"),
    [
        (MOTION, {"IsMotion": "true"}, SensorKind.MOTION, True),
        ("tns1:VideoSource/MotionAlarm", {"State": "false"}, SensorKind.MOTION, False),
        ("tns1:RuleEngine/TamperDetector/Tamper", {"IsTamper": "1"}, SensorKind.TAMPER, True),
        ("tns1:Device/Trigger/DigitalInput", {"LogicalState": "Active"}, SensorKind.DIGITAL_INPUT, True),
        ("tns1:RuleEngine/LineDetector/Crossed", {"ObjectId": "17"}, SensorKind.LINE_CROSSING, True),
        ("tns1:RuleEngine/FieldDetector/ObjectsInside", {"IsInside": "false"}, SensorKind.INTRUSION, False),
        ("tns1:Device/Trigger/MotionDetector", {"Alarm": "on"}, SensorKind.MOTION, True),  # the only item is read
    ],
)
def test_the_topic_table(topic: str, data: dict[str, str], kind: SensorKind, on: bool) -> None:
    rule = rule_for(topic)
    assert rule is not None and rule.kind is kind
    assert state_of(rule, event(topic, data)) is on


def test_unreadable_data_and_sources() -> None:
    rule = rule_for(MOTION)
    assert rule is not None
    assert state_of(rule, event(MOTION, {"IsMotion": "maybe"})) is None
    assert state_of(rule, event(MOTION, {})) is None
    digital = rule_for("tns1:Device/Trigger/DigitalInput")
    assert digital is not None
    assert source_of(digital, event(digital.topic, {}, {"InputToken": "2"})) == "2"
    assert source_of(digital, event(digital.topic, {})) == ""
