"""Stream statistics: rates over a sliding window and the figures the API, sensors and the live page show."""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["RateMeter", "StreamStats"]


class RateMeter:
    """Events per second over the last ``window`` seconds; ``add`` is called from the decoder thread."""

    __slots__ = ("_times", "total", "window")

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.total = 0
        self._times: collections.deque[float] = collections.deque()

    def add(self, now: float) -> None:
        self.total += 1
        times = self._times
        times.append(now)
        limit = now - self.window
        while times[0] < limit:
            times.popleft()

    def rate(self, now: float) -> float:
        """Per second over the window (or since the first event, when younger), 0 when nothing came lately."""
        times = list(self._times)  # the decoder thread may append meanwhile
        recent = [moment for moment in times if moment >= now - self.window]
        if len(recent) < 2:
            return 0.0
        span = max(now - recent[0], 1.0)  # at least a second: a stream's opening burst is not its rate
        return (len(recent) - 1) / span

    def clear(self) -> None:
        self._times.clear()


@dataclass(frozen=True, slots=True)
class StreamStats:
    """One camera's stream as the manager sees it now (or last saw it, once closed)."""

    entity_id: str
    state: str  # idle, connecting, streaming, retrying, failed
    open: bool
    consumers: int
    fps_received: float
    fps_decoded: float
    frames_decoded: int
    frames_dropped: int
    packets_received: int
    bytes_received: int
    width: int | None
    height: int | None
    codec: str | None
    last_error: str | None
    opened_at: float | None
    sessions: int
    failures: int
    retry_delay: float | None
    next_retry_at: float | None
    keyframe_interval: float | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("fps_received", "fps_decoded", "keyframe_interval"):
            if data[key] is not None:
                data[key] = round(data[key], 2)
        return data

    @classmethod
    def idle(cls, entity_id: str) -> StreamStats:
        """A camera whose stream was never opened in this run."""
        return cls(entity_id, "idle", False, 0, 0.0, 0.0, 0, 0, 0, 0, None, None, None, None, None, 0, 0, None, None,
                   None)  # fmt: skip
