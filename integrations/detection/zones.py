"""Zones: named polygons on the camera image that say where objects count.

An ``include`` zone names a place (``door``, ``driveway``): events list the include zones the object stands in,
and when a camera has include zones, objects outside all of them are ignored. An ``exclude`` zone masks a place
(a street behind the fence, a poster of a person): objects standing in it are ignored. An object "stands" at the
bottom centre of its box, a person's feet, so a head above the door frame does not put them in the door zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import voluptuous as vol

from integrations.detection.boxes import Box

__all__ = [
    "ZONE_KINDS",
    "Zone",
    "ZoneKind",
    "allowed",
    "parse_zones",
    "validate_zones",
    "zones_of",
]

ZoneKind = Literal["include", "exclude"]
ZONE_KINDS: tuple[ZoneKind, ...] = ("include", "exclude")
_ZONE_KEYS = ("name", "polygon", "kind")

Point = tuple[float, float]


@dataclass(frozen=True)
class Zone:
    """One polygon in image pixels (``(x, y)`` points, in order around it) and what it is for."""

    name: str
    polygon: tuple[Point, ...]
    kind: ZoneKind = "include"

    def contains(self, point: Point) -> bool:
        """Whether the point is inside the polygon or on its edge."""
        return _inside(self.polygon, point)

    def as_dict(self) -> dict[str, Any]:
        """The zone as configuration writes it (JSON-safe)."""
        return {"name": self.name, "polygon": [[x, y] for x, y in self.polygon], "kind": self.kind}


def zones_of(zones: Sequence[Zone], box: Box) -> list[str]:
    """Names of the include zones the box stands in (its bottom centre), in configuration order."""
    feet = box.bottom_center
    return [zone.name for zone in zones if zone.kind == "include" and zone.contains(feet)]


def allowed(zones: Sequence[Zone], box: Box) -> bool:
    """False when the box stands in an exclude zone, or outside every include zone when the camera has some."""
    feet = box.bottom_center
    has_include = False
    inside_include = False
    for zone in zones:
        if zone.kind == "exclude":
            if zone.contains(feet):
                return False
        else:
            has_include = True
            inside_include = inside_include or zone.contains(feet)
    return inside_include or not has_include


def parse_zones(raw: Any, *, path: Sequence[Any] = ("zones",)) -> list[Zone]:
    """Zones from configuration (a list of ``{name, polygon, kind}``), checked.

    Raises ``vol.Invalid`` whose path is ``[*path, index, "polygon" | "name" | "kind"]`` and whose message says
    what is wrong in words. As a value validator inside a voluptuous schema use ``validate_zones`` (voluptuous
    adds the ``zones`` key to the path itself).
    """
    prefix = list(path)
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise vol.Invalid("zones must be a list of {name, polygon, kind}", path=prefix)
    zones: list[Zone] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        zone = _parse_zone(item, [*prefix, index])
        if zone.name in seen:
            raise vol.Invalid(
                f"duplicate zone name {zone.name!r} (zone {seen[zone.name]} has it too)",
                path=[*prefix, index, "name"],
            )
        seen[zone.name] = index
        zones.append(zone)
    return zones


def validate_zones(raw: Any) -> list[dict[str, Any]]:
    """Voluptuous value validator for a ``zones`` key: the zones checked and normalised as plain dicts."""
    return [zone.as_dict() for zone in parse_zones(raw, path=())]


def _parse_zone(item: Any, path: list[Any]) -> Zone:
    if not isinstance(item, dict):
        raise vol.Invalid("a zone must be a mapping with name, polygon and kind", path=path)
    for key in item:
        if key not in _ZONE_KEYS:
            raise vol.Invalid(f"unknown zone option {key!r} (expected name, polygon, kind)", path=[*path, key])
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise vol.Invalid("a zone needs a name (a non-empty text)", path=[*path, "name"])
    kind = item.get("kind", "include")
    if kind not in ZONE_KINDS:
        raise vol.Invalid(f"unknown zone kind {kind!r} (expected include or exclude)", path=[*path, "kind"])
    polygon = _parse_polygon(item.get("polygon"), [*path, "polygon"])
    return Zone(name=name.strip(), polygon=polygon, kind=kind)


def _parse_polygon(raw: Any, path: list[Any]) -> tuple[Point, ...]:
    if not isinstance(raw, list | tuple):
        raise vol.Invalid("polygon must be a list of [x, y] points in image pixels", path=path)
    if len(raw) < 3:
        raise vol.Invalid(f"polygon needs at least 3 points, it has {len(raw)}", path=path)
    points: list[Point] = []
    for number, point in enumerate(raw, start=1):
        points.append(_parse_point(point, number, path))
    for first in range(len(points)):
        for second in range(first + 1, len(points)):
            if points[first] == points[second]:
                raise vol.Invalid(
                    f"polygon points {first + 1} and {second + 1} are the same point {_show(points[first])}",
                    path=path,
                )
    if all(_cross(points[0], points[1], point) == 0 for point in points[2:]):
        raise vol.Invalid("polygon has zero area (all its points lie on one line)", path=path)
    crossing = _crossing_edges(points)
    if crossing is not None:
        (a, b), (c, d) = crossing
        raise vol.Invalid(
            f"polygon is self-intersecting: edge {_show(a)}-{_show(b)} crosses edge {_show(c)}-{_show(d)}; "
            "list the points in order around the zone",
            path=path,
        )
    if abs(_signed_area(points)) < 1e-6:
        raise vol.Invalid("polygon has zero area", path=path)
    return tuple(points)


def _parse_point(point: Any, number: int, path: list[Any]) -> Point:
    if not isinstance(point, list | tuple) or len(point) != 2:
        raise vol.Invalid(f"polygon point {number} must be a pair [x, y], got {point!r}", path=path)
    coordinates: list[float] = []
    for value in point:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise vol.Invalid(f"polygon point {number} has a coordinate that is not a number: {value!r}", path=path)
        if value < 0:
            raise vol.Invalid(
                f"polygon point {number} has a negative coordinate {value!r} (image pixels start at 0)", path=path
            )
        coordinates.append(float(value))
    return (coordinates[0], coordinates[1])


def _show(point: Point) -> str:
    return f"({point[0]:g}, {point[1]:g})"


def _signed_area(points: Sequence[Point]) -> float:
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return total / 2


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_touch(a: Point, b: Point, c: Point, d: Point) -> bool:
    d1, d2, d3, d4 = _cross(c, d, a), _cross(c, d, b), _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(c, d, a))
        or (d2 == 0 and _on_segment(c, d, b))
        or (d3 == 0 and _on_segment(a, b, c))
        or (d4 == 0 and _on_segment(a, b, d))
    )


def _crossing_edges(points: Sequence[Point]) -> tuple[tuple[Point, Point], tuple[Point, Point]] | None:
    """The first pair of edges that cross or overlap, or None for a simple polygon."""
    count = len(points)
    edges = [(points[i], points[(i + 1) % count]) for i in range(count)]
    for i in range(count):
        a, b = edges[i]
        for j in range(i + 1, count):
            c, d = edges[j]
            adjacent = j == i + 1 or (i == 0 and j == count - 1)
            if adjacent:
                # Neighbours share a point; they are wrong only when one folds back along the other.
                shared, other_a, other_b = (b, a, d) if j == i + 1 else (a, b, c)
                if _cross(shared, other_a, other_b) == 0 and _dot(shared, other_a, other_b) > 0:
                    return edges[i], edges[j]
            elif _segments_touch(a, b, c, d):
                return edges[i], edges[j]
    return None


def _dot(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[0] - o[0]) + (a[1] - o[1]) * (b[1] - o[1])


def _inside(polygon: Sequence[Point], point: Point) -> bool:
    x, y = point
    inside = False
    previous = polygon[-1]
    for current in polygon:
        if _cross(previous, current, point) == 0 and _on_segment(previous, current, point):
            return True
        (x1, y1), (x2, y2) = previous, current
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        previous = current
    return inside
