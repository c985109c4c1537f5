"""The simulated pan-tilt-zoom head: a position that moves with the last ContinuousMove velocity, and presets.

Positions live in ONVIF's generic spaces (pan and tilt -1..1, zoom 0..1); the head moves at ``speed`` units per
second at full velocity and clamps at the ends, so a test sees a move change the position it reads back.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass
class Preset:
    token: str
    name: str
    pan: float
    tilt: float
    zoom: float


@dataclass
class PtzHead:
    speed: float = 0.5
    clock: Callable[[], float] = time.monotonic
    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    presets: dict[str, Preset] = field(default_factory=dict)
    moves: list[tuple[float, float, float]] = field(default_factory=list)
    _since: float | None = None
    _until: float | None = None
    _tokens: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def moving(self) -> bool:
        self._advance()
        return self.velocity != (0.0, 0.0, 0.0)

    def position(self) -> tuple[float, float, float]:
        self._advance()
        return (self.pan, self.tilt, self.zoom)

    def continuous_move(self, pan: float, tilt: float, zoom: float, timeout: float | None = None) -> None:
        self._advance()
        self.velocity = (_clamp(pan, -1, 1), _clamp(tilt, -1, 1), _clamp(zoom, -1, 1))
        self.moves.append(self.velocity)
        self._since = self.clock()
        self._until = None if timeout is None else self._since + timeout

    def stop(self, pan_tilt: bool = True, zoom: bool = True) -> None:
        self._advance()
        pan, tilt, zooming = self.velocity
        self.velocity = (0.0 if pan_tilt else pan, 0.0 if pan_tilt else tilt, 0.0 if zoom else zooming)

    def goto(self, token: str) -> Preset:
        preset = self.presets[token]
        self._advance()
        self.velocity = (0.0, 0.0, 0.0)
        self.pan, self.tilt, self.zoom = preset.pan, preset.tilt, preset.zoom
        return preset

    def set_preset(self, name: str | None, token: str | None = None) -> Preset:
        """Store the current position under ``token`` (a new token when None)."""
        self._advance()
        token = token or f"Preset{next(self._tokens)}"
        preset = Preset(token, name or token, self.pan, self.tilt, self.zoom)
        self.presets[token] = preset
        return preset

    def _advance(self) -> None:
        if self._since is None:
            return
        now = self.clock()
        end = now if self._until is None else min(now, self._until)
        elapsed = max(0.0, end - self._since)
        pan, tilt, zoom = self.velocity
        self.pan = _clamp(self.pan + pan * self.speed * elapsed, -1, 1)
        self.tilt = _clamp(self.tilt + tilt * self.speed * elapsed, -1, 1)
        self.zoom = _clamp(self.zoom + zoom * self.speed * elapsed, 0, 1)
        self._since = end
        if self._until is not None and now >= self._until:
            self.velocity = (0.0, 0.0, 0.0)
            self._since = self._until = None
        elif self.velocity == (0.0, 0.0, 0.0):
            self._since = None
