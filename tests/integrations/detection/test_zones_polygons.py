"""Zones: polygons are checked with a reason a user understands, and objects are placed by where they stand."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from integrations.detection.boxes import Box
from integrations.detection.zones import Zone, allowed, parse_zones, validate_zones, zones_of

DOOR = {"name": "door", "polygon": [[0, 400], [640, 400], [640, 720], [0, 720]], "kind": "include"}
STREET = {"name": "street", "polygon": [[900, 0], [1280, 0], [1280, 720], [900, 720]], "kind": "exclude"}


def person(x1: float, y1: float, x2: float, y2: float, confidence: float = 0.9) -> Box:
    return Box(x1, y1, x2, y2, "person", confidence)


def refusal(raw: Any) -> vol.Invalid:
    with pytest.raises(vol.Invalid) as caught:
        parse_zones(raw)
    return caught.value


def test_valid_zones_parse_with_include_as_default_kind() -> None:
    zones = parse_zones([DOOR, STREET, {"name": "yard", "polygon": [[0, 0], [100, 0], [50, 80.5]]}])

    assert zones == [
        Zone("door", ((0.0, 400.0), (640.0, 400.0), (640.0, 720.0), (0.0, 720.0)), "include"),
        Zone("street", ((900.0, 0.0), (1280.0, 0.0), (1280.0, 720.0), (900.0, 720.0)), "exclude"),
        Zone("yard", ((0.0, 0.0), (100.0, 0.0), (50.0, 80.5)), "include"),
    ]
    assert parse_zones([]) == []
    assert parse_zones(None) == []


@pytest.mark.parametrize(
    ("polygon", "reason"),
    [
        ([[0, 0], [10, 0]], "polygon needs at least 3 points, it has 2"),
        ([[0, 0], [10, "x"], [5, 5]], "polygon point 2 has a coordinate that is not a number: 'x'"),
        ([[0, 0], [10, 0], [5, None]], "polygon point 3 has a coordinate that is not a number: None"),
        ([[0, 0], [10, 0], [5, True]], "polygon point 3 has a coordinate that is not a number: True"),
        ([[0, 0], [10, 0, 3], [5, 5]], "polygon point 2 must be a pair [x, y], got [10, 0, 3]"),
        ([[0, 0], [-10, 0], [5, 5]], "polygon point 2 has a negative coordinate -10 (image pixels start at 0)"),
        ([[0, 0], [10, 10], [20, 20]], "polygon has zero area (all its points lie on one line)"),
        ([[0, 0], [10, 0], [10, 0], [0, 10]], "polygon points 2 and 3 are the same point (10, 0)"),
        (
            [[0, 0], [10, 10], [10, 0], [0, 10]],
            "polygon is self-intersecting: edge (0, 0)-(10, 10) crosses edge (10, 0)-(0, 10); "
            "list the points in order around the zone",
        ),
        ("0,0 10,0 5,5", "polygon must be a list of [x, y] points in image pixels"),
    ],
)
def test_invalid_polygon_is_refused_with_its_reason_and_path(polygon: Any, reason: str) -> None:
    error = refusal([DOOR, {"name": "bad", "polygon": polygon}])

    assert error.path == ["zones", 1, "polygon"]
    assert error.error_message == reason


def test_self_intersection_is_found_in_a_larger_polygon() -> None:
    """A figure eight drawn by swapping two points of an otherwise good hexagon."""
    hexagon = [[100, 0], [200, 0], [300, 100], [200, 200], [100, 200], [0, 100]]
    hexagon[1], hexagon[4] = hexagon[4], hexagon[1]

    error = refusal([{"name": "porch", "polygon": hexagon}])

    assert error.path == ["zones", 0, "polygon"]
    assert error.error_message.startswith("polygon is self-intersecting: edge (100, 0)-(100, 200) crosses edge")


def test_polygon_folding_back_on_itself_is_self_intersecting() -> None:
    error = refusal([{"name": "fold", "polygon": [[0, 0], [100, 0], [50, 0], [50, 50]]}])

    assert error.error_message.startswith("polygon is self-intersecting")


def test_duplicate_name_unknown_kind_and_missing_name_point_at_their_key() -> None:
    duplicate = refusal([DOOR, STREET, {**DOOR, "polygon": [[0, 0], [10, 0], [0, 10]]}])
    assert duplicate.path == ["zones", 2, "name"]
    assert duplicate.error_message == "duplicate zone name 'door' (zone 0 has it too)"

    kind = refusal([{**DOOR, "kind": "ignore"}])
    assert kind.path == ["zones", 0, "kind"]
    assert kind.error_message == "unknown zone kind 'ignore' (expected include or exclude)"

    nameless = refusal([{"polygon": DOOR["polygon"]}])
    assert nameless.path == ["zones", 0, "name"]
    assert nameless.error_message == "a zone needs a name (a non-empty text)"

    typo = refusal([{**DOOR, "polgon": []}])
    assert typo.path == ["zones", 0, "polgon"]

    assert refusal("door").error_message == "zones must be a list of {name, polygon, kind}"
    assert refusal(["door"]).path == ["zones", 0]


def test_validate_zones_inside_a_schema_gets_the_zones_path_from_voluptuous() -> None:
    schema = vol.Schema({vol.Optional("zones", default=list): validate_zones})

    assert schema({"zones": [DOOR]}) == {
        "zones": [{"name": "door", "polygon": [[0.0, 400.0], [640.0, 400.0], [640.0, 720.0], [0.0, 720.0]],
                   "kind": "include"}]
    }  # fmt: skip
    with pytest.raises(vol.MultipleInvalid) as caught:
        schema({"zones": [DOOR, {"name": "bad", "polygon": [[0, 0], [1, 1]]}]})
    assert caught.value.path == ["zones", 1, "polygon"]
    assert "polygon needs at least 3 points" in str(caught.value)


def test_zones_of_uses_the_feet_not_the_head() -> None:
    zones = parse_zones([DOOR, STREET, {"name": "path", "polygon": [[300, 500], [700, 500], [700, 720], [300, 720]]}])

    # Head above the door zone, feet inside it.
    assert zones_of(zones, person(100, 200, 200, 450)) == ["door"]
    # Feet where door and path overlap: both, in configuration order; exclude zones are never listed.
    assert zones_of(zones, person(450, 300, 550, 600)) == ["door", "path"]
    # Feet above the door zone's top edge: not in it.
    assert zones_of(zones, person(100, 100, 200, 390)) == []
    # Feet exactly on the door zone's edge count as inside.
    assert zones_of(zones, person(100, 300, 200, 400)) == ["door"]
    assert zones_of(zones, person(1000, 300, 1100, 600)) == []


def test_allowed_with_include_and_exclude_zones() -> None:
    door, street = parse_zones([DOOR, STREET])

    assert allowed([], person(10, 10, 50, 90))
    # Only an exclude zone: everywhere but the street.
    assert allowed([street], person(10, 10, 50, 90))
    assert not allowed([street], person(1000, 300, 1100, 600))
    # An include zone: only inside it.
    assert allowed([door, street], person(100, 300, 200, 500))
    assert not allowed([door, street], person(700, 100, 800, 300))
    assert not allowed([door, street], person(1000, 300, 1100, 600))


def test_exclude_zone_wins_over_an_overlapping_include_zone() -> None:
    zones = parse_zones([DOOR, {"name": "mat", "polygon": [[0, 600], [100, 600], [100, 720], [0, 720]],
                                "kind": "exclude"}])  # fmt: skip

    assert not allowed(zones, person(20, 400, 80, 700))
    assert allowed(zones, person(200, 400, 280, 700))


def test_point_in_concave_polygon() -> None:
    """An L-shaped zone: the notch of the L is outside."""
    (ell,) = parse_zones([{"name": "ell", "polygon": [[0, 0], [100, 0], [100, 40], [40, 40], [40, 100], [0, 100]]}])

    assert ell.contains((20, 80))
    assert ell.contains((80, 20))
    assert not ell.contains((80, 80))
    assert ell.as_dict() == {
        "name": "ell",
        "polygon": [[0.0, 0.0], [100.0, 0.0], [100.0, 40.0], [40.0, 40.0], [40.0, 100.0], [0.0, 100.0]],
        "kind": "include",
    }
