"""The simulated device's event service: PullPoint subscriptions, their queues, and the property states.

A new subscription starts with one ``Initialized`` message per property (motion, tamper, digital input), as real
devices send; ``emit`` queues a message on every live subscription and wakes any waiting ``PullMessages``.
Expired subscriptions answer a fault, so a client that forgot to renew must subscribe again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .soap import SoapFault, element, node, xml_time

TOPIC_DIALECT = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"

# Where each well-known topic says its message comes from, when ``emit`` is not told.
DEFAULT_SOURCES: Mapping[str, Mapping[str, str]] = {
    "tns1:RuleEngine/CellMotionDetector/Motion": {
        "VideoSourceConfigurationToken": "VideoSourceConfig",
        "VideoAnalyticsConfigurationToken": "AnalyticsConfig",
        "Rule": "MyMotionDetectorRule",
    },
    "tns1:RuleEngine/TamperDetector/Tamper": {
        "VideoSourceConfigurationToken": "VideoSourceConfig",
        "VideoAnalyticsConfigurationToken": "AnalyticsConfig",
        "Rule": "MyTamperDetectorRule",
    },
    "tns1:RuleEngine/LineDetector/Crossed": {
        "VideoSourceConfigurationToken": "VideoSourceConfig",
        "VideoAnalyticsConfigurationToken": "AnalyticsConfig",
        "Rule": "MyLineDetectorRule",
    },
    "tns1:Device/Trigger/DigitalInput": {"InputToken": "1"},
}

# The properties a new subscription is told about at once (PropertyOperation="Initialized").
INITIAL_PROPERTIES: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("tns1:RuleEngine/CellMotionDetector/Motion", {"IsMotion": "false"}),
    ("tns1:RuleEngine/TamperDetector/Tamper", {"IsTamper": "false"}),
    ("tns1:Device/Trigger/DigitalInput", {"LogicalState": "false"}),
)


@dataclass(frozen=True, slots=True)
class EventMessage:
    topic: str
    data: Mapping[str, str]
    source: Mapping[str, str]
    operation: str | None  # "Initialized" / "Changed" / "Deleted", or None for a plain event (a line crossing)
    time: dt.datetime

    def xml(self) -> str:
        def items(values: Mapping[str, str]) -> str:
            return "".join(element("tt:SimpleItem", Name=name, Value=value) for name, value in values.items())

        message = node(
            "tt:Message",
            node("tt:Source", items(self.source)),
            node("tt:Data", items(self.data)),
            UtcTime=xml_time(self.time),
            PropertyOperation=self.operation,
        )
        return node(
            "wsnt:NotificationMessage",
            element("wsnt:Topic", self.topic, Dialect=TOPIC_DIALECT),
            node("wsnt:Message", message),
        )


@dataclass
class Subscription:
    id: str
    terminates_at: dt.datetime
    messages: list[EventMessage] = field(default_factory=list)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    pulls: int = 0
    renewals: int = 0


class EventBroker:
    """Every subscription of the device and the current value of every property topic."""

    def __init__(self, now: Callable[[], dt.datetime], *, max_subscriptions: int = 10) -> None:
        self._now = now
        self.max_subscriptions = max_subscriptions
        self.subscriptions: dict[str, Subscription] = {}
        self.unsubscribed: list[str] = []
        self._ids = itertools.count(1)
        self._properties: dict[tuple[str, tuple[tuple[str, str], ...]], EventMessage] = {}
        for topic, data in INITIAL_PROPERTIES:
            self._remember(self._message(topic, data, None, "Initialized"))

    def emit(
        self,
        topic: str,
        data: Mapping[str, str],
        source: Mapping[str, str] | None = None,
        *,
        operation: str | None = "Changed",
    ) -> None:
        """Queue a message on every live subscription (``operation=None`` for a plain event, not a property)."""
        message = self._message(topic, data, source, operation)
        if operation is not None:
            self._remember(message)
        for subscription in self._live():
            subscription.messages.append(message)
            subscription.wakeup.set()

    def create(self, terminates_at: dt.datetime) -> Subscription:
        live = self._live()
        if len(live) >= self.max_subscriptions:  # cameras have a few slots; leaking clients exhaust them
            raise SoapFault("Receiver", "ter:MaxPullPointsReached", "no free pull point subscription", 500)
        subscription = Subscription(str(next(self._ids)), terminates_at)
        self.synchronize(subscription)
        self.subscriptions[subscription.id] = subscription
        return subscription

    def synchronize(self, subscription: Subscription) -> None:
        """Queue the current value of every property (on subscribing, and on SetSynchronizationPoint)."""
        now = self._now()
        subscription.messages.extend(
            EventMessage(m.topic, m.data, m.source, "Initialized", now) for m in self._properties.values()
        )
        subscription.wakeup.set()

    def get(self, subscription_id: str) -> Subscription:
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None or subscription.terminates_at <= self._now():
            self.subscriptions.pop(subscription_id, None)
            raise SoapFault("Sender", "ter:InvalidArgVal", f"subscription {subscription_id} does not exist or expired")
        return subscription

    async def pull(self, subscription_id: str, timeout: float, limit: int) -> list[EventMessage]:
        """Wait up to ``timeout`` for messages; return at most ``limit`` of them."""
        subscription = self.get(subscription_id)
        subscription.pulls += 1
        if not subscription.messages:
            subscription.wakeup.clear()
            try:
                async with asyncio.timeout(timeout):
                    await subscription.wakeup.wait()
            except TimeoutError:
                pass
            subscription = self.get(subscription_id)  # expired or forgotten while we waited: a fault
        taken, subscription.messages = subscription.messages[:limit], subscription.messages[limit:]
        return taken

    def unsubscribe(self, subscription_id: str) -> None:
        self.get(subscription_id)
        del self.subscriptions[subscription_id]
        self.unsubscribed.append(subscription_id)

    def expire_all(self) -> None:
        """Forget every subscription, as a rebooted camera does."""
        for subscription in self.subscriptions.values():
            subscription.wakeup.set()
        self.subscriptions.clear()

    def _live(self) -> list[Subscription]:
        now = self._now()
        return [subscription for subscription in self.subscriptions.values() if subscription.terminates_at > now]

    def _message(
        self, topic: str, data: Mapping[str, str], source: Mapping[str, str] | None, operation: str | None
    ) -> EventMessage:
        if source is None:
            source = DEFAULT_SOURCES.get(topic, {})
        return EventMessage(topic, dict(data), dict(source), operation, self._now())

    def _remember(self, message: EventMessage) -> None:
        self._properties[(message.topic, tuple(sorted(message.source.items())))] = message
