"""PullPoint events (REFERENCE.md §4.5): subscribe for 10 min, renew at 8, long-poll PullMessages, never
unsubscribe.

Some cameras cancel every subscription, other clients' included, on Unsubscribe; others have a few slots that
leaked subscriptions exhaust. So stopping only cancels our loop, and ``stop`` returns the live subscription: the
next loop for the same camera (a reload, a reconnection) is started with it as ``resume`` and renews it instead
of taking another slot. A failure after a working subscription re-subscribes at once (the camera rebooted or
dropped it); a failed subscribe waits ``retry_delay``. A device that says the operation is not supported, or
that refuses the password, is left alone (its health check and a reconnection take it from there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hub.core import await_maybe

from .client import OnvifClient
from .const import (
    EVENTS_RETRY_SECONDS,
    PULL_MESSAGE_LIMIT,
    PULL_TIMEOUT_SECONDS,
    RENEW_AFTER_SECONDS,
    SUBSCRIPTION_SECONDS,
)
from .errors import OnvifAuthError, OnvifError, OnvifFaultError
from .topics import OnvifEvent, parse_notification

_LOGGER = logging.getLogger(__name__)

EventHandler = Callable[[list[OnvifEvent]], Awaitable[None] | None]
RESUME_MARGIN = 5.0  # seconds: a subscription this close to its end is not worth renewing


@dataclass(frozen=True, slots=True)
class LiveSubscription:
    """A subscription we hold on the camera: its address, and when it ends (our loop's clock)."""

    address: str
    expires_at: float


class PullPointEvents:
    """One device's event loop. ``handle`` gets each batch of parsed messages, in order."""

    def __init__(
        self,
        client: OnvifClient,
        handle: EventHandler,
        *,
        name: str,
        subscription_seconds: float = SUBSCRIPTION_SECONDS,
        renew_after: float = RENEW_AFTER_SECONDS,
        pull_timeout: float = PULL_TIMEOUT_SECONDS,
        message_limit: int = PULL_MESSAGE_LIMIT,
        retry_delay: float = EVENTS_RETRY_SECONDS,
        resume: LiveSubscription | None = None,
    ) -> None:
        if not 0 < renew_after < subscription_seconds:
            raise ValueError("renew_after must be positive and shorter than the subscription")
        self.client = client
        self.handle = handle
        self.name = name
        self.subscription_seconds = subscription_seconds
        self.renew_after = renew_after
        self.pull_timeout = pull_timeout
        self.message_limit = message_limit
        self.retry_delay = retry_delay
        self.subscriptions = 0  # created by us
        self.resumed = 0  # taken over from an earlier loop
        self.renewals = 0
        self.received = 0
        self.failures = 0
        self.subscribed = False
        self.supported = True
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._worked = False  # the current subscription answered a pull: one immediate re-subscribe if it dies
        self._resume = resume
        self.live: LiveSubscription | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, create_task: Callable[..., asyncio.Task[None]]) -> None:
        """Start the loop with the hub's task factory (``hub.create_background_task``)."""
        if self._task is None or self._task.done():
            self._task = create_task(self._run(), f"onvif events {self.name}")

    async def stop(self) -> LiveSubscription | None:
        """Stop pulling and return the live subscription, for a later loop to resume. No Unsubscribe: unless
        resumed, it expires on the camera by itself."""
        task, self._task = self._task, None
        self.subscribed = False
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        live, self.live = self.live, None
        if live is None or live.expires_at - asyncio.get_running_loop().time() < RESUME_MARGIN:
            return None
        self._resume = live
        return live

    async def _run(self) -> None:
        while True:
            try:
                await self._subscribe_and_pull()
            except OnvifFaultError as err:
                if err.not_supported:
                    self.supported = False
                    _LOGGER.warning("%s does not support PullPoint events: %s", self.name, err)
                    return
                self._failed(err)
            except OnvifAuthError as err:  # retrying a refused password locks accounts: wait for a reconnect
                self._failed(err)
                self.subscribed = False
                self.live = None
                return
            except OnvifError as err:
                self._failed(err)
            self.subscribed = False
            self.live = None
            if self._worked:  # it worked before: the camera dropped the subscription, take a new one now
                self._worked = False
                continue
            await asyncio.sleep(self.retry_delay)

    async def _subscribe(self) -> None:
        """Renew the subscription to resume if it is still there, else create one."""
        loop = asyncio.get_running_loop()
        resume, self._resume = self._resume, None
        if resume is not None and resume.expires_at - loop.time() > RESUME_MARGIN:
            try:
                self.client.use_pull_point(resume.address)
                await self.client.renew(self.subscription_seconds)
            except OnvifError as err:  # the camera rebooted or dropped it: take a new one
                _LOGGER.debug("%s: could not resume subscription %s: %s", self.name, resume.address, err)
            else:
                self.resumed += 1
                self.live = LiveSubscription(resume.address, loop.time() + self.subscription_seconds)
                await self._synchronize()
                return
        pull_point = await self.client.create_pull_point(self.subscription_seconds)
        self.subscriptions += 1
        self.live = LiveSubscription(pull_point.address, loop.time() + self.subscription_seconds)

    async def _synchronize(self) -> None:
        """A resumed subscription sends no initial states: ask for them (optional for cameras, so best effort)."""
        try:
            await self.client.synchronize()
        except OnvifError as err:
            _LOGGER.debug("%s: SetSynchronizationPoint failed: %s", self.name, err)

    async def _subscribe_and_pull(self) -> None:
        loop = asyncio.get_running_loop()
        await self._subscribe()
        self.subscribed = True
        if self.last_error is not None:
            _LOGGER.info("%s: events flow again", self.name)
            self.last_error = None
        renew_at = loop.time() + self.renew_after
        while True:
            wait = renew_at - loop.time()
            if wait <= 0:
                await self.client.renew(self.subscription_seconds)
                self.renewals += 1
                if self.live is not None:
                    self.live = LiveSubscription(self.live.address, loop.time() + self.subscription_seconds)
                renew_at = loop.time() + self.renew_after
                continue
            messages = await self.client.pull_messages(min(self.pull_timeout, wait), self.message_limit)
            self._worked = True
            events = [event for message in messages if (event := parse_notification(message)) is not None]
            self.received += len(events)
            if events:
                try:
                    await await_maybe(self.handle(events))
                except Exception:  # one bad message must not stop the events of the camera
                    _LOGGER.exception("%s: handling events failed", self.name)

    def _failed(self, err: OnvifError) -> None:
        self.failures += 1
        message = str(err)
        if message != self.last_error:  # once per distinct failure, not once per retry
            _LOGGER.warning("%s: events interrupted: %s", self.name, message)
        self.last_error = message
