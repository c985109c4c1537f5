"""Blueprints: the shipped ones load, inputs are checked against their selectors, ``!input`` is replaced, the
form is generated from the selectors, and the config directory's blueprints are found (and win)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.automation import blueprints
from hub.automation.blueprints import BlueprintError, BlueprintLibrary
from hub.core import Hub

SHIPPED = {
    "gatehouse/device_offline.yaml",
    "gatehouse/known_person_door_schedule.yaml",
    "gatehouse/person_after_hours.yaml",
    "gatehouse/station_session_ending.yaml",
    "gatehouse/unknown_face_or_forced_door.yaml",
}

DOOR_INPUTS = {"terminal": "dev1", "door": "lock.front_door", "open_action": "demo.open_door"}


def use(path: str, **inputs: object) -> dict[str, object]:
    return {"id": "a1", "alias": "Mine", "tenant": "acme", "use_blueprint": {"path": path, "input": inputs}}


@pytest.fixture
def library(tmp_path: Path) -> BlueprintLibrary:
    return BlueprintLibrary(tmp_path)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / "blueprints" / "automation" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_blueprint_loads(library: BlueprintLibrary) -> None:
    found = {blueprint.path: blueprint for blueprint in library.list_blueprints()}

    assert set(found) >= SHIPPED
    assert library.errors() == []
    assert all(found[path].source == "shipped" and found[path].name for path in SHIPPED)


@pytest.mark.parametrize(
    ("path", "inputs"),
    [
        ("gatehouse/known_person_door_schedule.yaml", DOOR_INPUTS),
        ("gatehouse/person_after_hours.yaml", {"camera": "camera.gate"}),
        ("gatehouse/device_offline.yaml", {}),
        ("gatehouse/station_session_ending.yaml", {}),
        ("gatehouse/unknown_face_or_forced_door.yaml", {"camera": "camera.gate"}),
    ],
)
def test_every_shipped_blueprint_expands_without_placeholders(
    library: BlueprintLibrary, path: str, inputs: dict[str, object]
) -> None:
    expanded = library.expand(use(path, **inputs))

    assert (expanded["id"], expanded["alias"], expanded["tenant"]) == ("a1", "Mine", "acme")
    assert "use_blueprint" not in expanded and "blueprint" not in expanded
    assert expanded["triggers"] and expanded["actions"]
    assert "!input" not in repr(expanded) and "Input(" not in repr(expanded)


def test_inputs_replace_placeholders_and_defaults_apply(library: BlueprintLibrary) -> None:
    expanded = library.expand(use("gatehouse/known_person_door_schedule.yaml", **DOOR_INPUTS, people=["Alice"]))

    assert expanded["triggers"] == [{"trigger": "access", "device_id": "dev1", "person": ["Alice"]}]
    time_condition = expanded["conditions"][1]
    assert time_condition == {
        "condition": "time",
        "after": "07:00:00",
        "before": "19:00:00",
        "weekday": ["mon", "tue", "wed", "thu", "fri"],
    }
    assert expanded["actions"] == [{"action": "demo.open_door", "target": {"entity_id": "lock.front_door"}}]


def test_values_are_normalised_by_their_selector(library: BlueprintLibrary) -> None:
    expanded = library.expand(use("gatehouse/device_offline.yaml", duration="00:10", devices="dev9"))

    assert expanded["triggers"][0] == {"trigger": "device", "device_id": ["dev9"], "to": "offline",
                                       "for": {"hours": 0, "minutes": 10, "seconds": 0}}  # fmt: skip


def test_the_automation_keys_win_over_the_blueprint(library: BlueprintLibrary) -> None:
    config = use("gatehouse/device_offline.yaml")
    config["mode"] = "single"

    assert library.expand(config)["mode"] == "single"  # the blueprint says parallel


@pytest.mark.parametrize(
    ("inputs", "key", "reason"),
    [
        ({"terminal": "dev1", "open_action": "demo.open_door"}, "use_blueprint.input.door", "required input 'Door'"),
        ({**DOOR_INPUTS, "door": "camera.gate"}, "use_blueprint.input.door", "camera.gate is not a lock entity"),
        ({**DOOR_INPUTS, "door": "Front door"}, "use_blueprint.input.door", "expected an entity id"),
        ({**DOOR_INPUTS, "open_action": "lock.unlock"}, "use_blueprint.input.open_action", "is not one of"),
        ({**DOOR_INPUTS, "after": "25:00"}, "use_blueprint.input.after", "HH:MM"),
        ({**DOOR_INPUTS, "weekdays": ["mon", "funday"]}, "use_blueprint.input.weekdays", "'funday' is not one of"),
        ({**DOOR_INPUTS, "dor": "lock.x"}, "use_blueprint.input.dor", "unknown input; this blueprint has: terminal"),
    ],
)
def test_bad_inputs_are_refused_naming_the_input(
    library: BlueprintLibrary, inputs: dict[str, object], key: str, reason: str
) -> None:
    with pytest.raises(BlueprintError) as caught:
        library.expand(use("gatehouse/known_person_door_schedule.yaml", **inputs))

    assert caught.value.key == key
    assert reason in caught.value.reason


def test_number_inputs_are_checked_against_min_and_max(library: BlueprintLibrary) -> None:
    with pytest.raises(BlueprintError, match="must be at most 1"):
        library.expand(use("gatehouse/person_after_hours.yaml", camera="camera.gate", min_confidence=60))
    expanded = library.expand(use("gatehouse/person_after_hours.yaml", camera="camera.gate", min_confidence="0.8"))
    assert expanded["triggers"][0]["min_confidence"] == 0.8


@pytest.mark.parametrize("path", ["../secrets.yaml", "/etc/passwd.yaml", "gatehouse/nothing.yaml", "x.txt", ""])
def test_unknown_or_unsafe_paths_are_refused(library: BlueprintLibrary, path: str) -> None:
    with pytest.raises(BlueprintError) as caught:
        library.expand(use(path))
    assert caught.value.key == "use_blueprint.path"


def test_the_form_is_generated_from_the_selectors(library: BlueprintLibrary) -> None:
    fields = {field["name"]: field for field in library.form_schema("gatehouse/known_person_door_schedule.yaml")}

    assert list(fields) == ["terminal", "people", "door", "open_action", "after", "before", "weekdays"]
    assert (
        fields["terminal"].items() >= {"type": "device", "required": True, "label": "Terminal", "section": None}.items()
    )
    assert fields["people"].items() >= {"type": "text", "multiple": True, "required": False, "default": []}.items()
    assert fields["door"].items() >= {"type": "entity", "domain": ["lock"], "required": True}.items()
    assert fields["open_action"]["options"][0] == {"value": "tm20.open_door", "label": "TM20 terminal"}
    assert fields["after"].items() >= {"type": "time", "default": "07:00:00", "section": "schedule"}.items()
    assert fields["weekdays"].items() >= {"type": "select", "multiple": True}.items()
    after_hours = {field["name"]: field for field in library.form_schema("gatehouse/person_after_hours.yaml")}
    assert after_hours["min_confidence"].items() >= {"type": "number", "min": 0, "max": 1, "step": 0.05}.items()
    assert after_hours["extra_actions"]["type"] == "object"
    offline = {field["name"]: field for field in library.form_schema("gatehouse/device_offline.yaml")}
    assert offline["duration"].items() >= {"type": "duration", "default": {"minutes": 5}}.items()
    station = library.get("gatehouse/station_session_ending.yaml").as_dict()
    assert {field["name"]: field["type"] for field in station["fields"]}["notify_dashboard"] == "boolean"


def test_the_config_directory_blueprints_are_found_and_win(tmp_path: Path) -> None:
    text = """
blueprint:
  name: My own offline alert
  domain: automation
  input:
    who: {name: Who, selector: {text: {}}}
triggers: [{trigger: device, to: offline}]
actions: [{action: notify.persistent_notification, data: {message: !input who}}]
"""
    write(tmp_path, "gatehouse/device_offline.yaml", text)
    write(tmp_path, "mine/other.yaml", text)
    library = BlueprintLibrary(tmp_path)

    found = {blueprint.path: blueprint for blueprint in library.list_blueprints()}
    assert found["gatehouse/device_offline.yaml"].source == "config"
    assert found["gatehouse/device_offline.yaml"].name == "My own offline alert"
    assert found["mine/other.yaml"].source == "config"
    expanded = library.expand(use("mine/other.yaml", who="ops"))
    assert expanded["actions"] == [{"action": "notify.persistent_notification", "data": {"message": "ops"}}]


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, "mine/x.yaml", "blueprint: {name: One, domain: automation}\ntriggers: []\nactions: []\n")
    library = BlueprintLibrary(tmp_path)
    assert library.get("mine/x.yaml").name == "One"

    path.write_text("blueprint: {name: Two words, domain: automation}\ntriggers: []\nactions: []\n", encoding="utf-8")

    assert library.get("mine/x.yaml").name == "Two words"


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("triggers: []\n", "blueprint", "starts with a 'blueprint:' mapping"),
        ("blueprint: {name: X, domain: script}\n", "blueprint.domain", "only automation blueprints"),
        ("blueprint: {domain: automation}\n", "blueprint.name", "required"),
        (
            "blueprint: {name: X, domain: automation}\nactions: [{action: !input nope}]\n",
            "blueprint.input",
            "!input nope (blueprints/automation/mine/bad.yaml, line 2) is not declared",
        ),
        (
            "blueprint: {name: X, domain: automation, input: {a: {selector: {colour: {}}}}}\n",
            "blueprint.input.a.selector",
            "unknown selector 'colour'",
        ),
        (
            "blueprint: {name: X, domain: automation, input: {a: {selector: {select: {}}}}}\n",
            "blueprint.input.a.selector",
            "needs a list of options",
        ),
        ("blueprint: [\n", "", "invalid YAML"),
    ],
)
def test_a_broken_blueprint_is_refused_with_key_and_reason(
    tmp_path: Path, text: str, key: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "mine/bad.yaml", text)
    library = BlueprintLibrary(tmp_path)

    assert "mine/bad.yaml" not in {blueprint.path for blueprint in library.list_blueprints()}
    (error,) = library.errors()
    assert (error.path, error.key) == ("mine/bad.yaml", key)
    assert reason in error.reason
    library.list_blueprints()
    assert len([record for record in caplog.records if "mine/bad.yaml" in record.getMessage()]) == 1  # logged once
    with pytest.raises(BlueprintError) as caught:
        library.expand(use("mine/bad.yaml"))
    assert caught.value.key == "use_blueprint.path" and "broken" in caught.value.reason


def test_input_sections_group_inputs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "mine/sections.yaml",
        """
blueprint:
  name: Sections
  domain: automation
  input:
    when:
      name: When
      collapsed: true
      input:
        at: {name: At, default: "08:00", selector: {time: {}}}
triggers: [{trigger: time, at: !input at}]
actions: []
""",
    )
    blueprint = BlueprintLibrary(tmp_path).get("mine/sections.yaml")

    assert blueprint.sections == [{"name": "When", "collapsed": True, "key": "when"}]
    assert blueprint.form_schema()[0].items() >= {"name": "at", "section": "when", "default": "08:00"}.items()


async def test_the_hub_level_functions_read_the_hub_config_directory(hub: Hub) -> None:
    write(hub.config_dir, "mine/x.yaml", "blueprint: {name: X, domain: automation}\ntriggers: []\nactions: []\n")

    paths = {blueprint.path for blueprint in blueprints.list_blueprints(hub)}
    assert SHIPPED | {"mine/x.yaml"} <= paths
    assert blueprints.get(hub, "mine/x.yaml").source == "config"
    assert blueprints.form_schema(hub, "gatehouse/device_offline.yaml")[0]["name"] == "devices"
    assert blueprints.expand(use("mine/x.yaml"), hub)["id"] == "a1"


def test_a_blueprint_error_says_the_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "mine/lines.yaml",
        "blueprint:\n  name: X\n  domain: automation\n  input:\n    a:\n      selector:\n        colour: {}\n",
    )

    (error,) = BlueprintLibrary(tmp_path).errors()

    assert error.key == "blueprint.input.a.selector"
    assert error.reason.startswith("line 7: unknown selector 'colour'")
