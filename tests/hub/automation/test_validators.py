"""Values as people write them in YAML: times of day (even unquoted), durations."""

from __future__ import annotations

import datetime as dt

import pytest
import voluptuous as vol
import yaml

from hub.automation.validators import duration, time_of_day


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("12:30", dt.time(12, 30)),
        ("7:05", dt.time(7, 5)),
        ("12:30:15", dt.time(12, 30, 15)),
        ("'07:30'", dt.time(7, 30)),
    ],
)
def test_times_of_day_even_when_yaml_reads_them_as_numbers(written: str, expected: dt.time) -> None:
    assert time_of_day(yaml.safe_load(f"at: {written}")["at"]) == expected


def test_durations() -> None:
    assert duration(90) == dt.timedelta(seconds=90)
    assert duration("00:01:30") == dt.timedelta(minutes=1, seconds=30)
    assert duration({"minutes": 2, "milliseconds": 500}) == dt.timedelta(minutes=2, milliseconds=500)
    for bad in ("soon", -1, {"weeks": 1}, [1]):
        with pytest.raises(vol.Invalid):
            duration(bad)
    with pytest.raises(vol.Invalid):
        time_of_day("25:00")
