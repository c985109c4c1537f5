"""configuration.yaml: the tags, the core sections, and problems that name the file, line and key to fix."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest
import voluptuous as vol

from hub.config import (
    ConfigError,
    ConfigProblem,
    CoreConfig,
    Input,
    check_config,
    load_configuration,
    load_yaml,
    validate_configuration,
)
from hub.integration import Integration
from hub.plugins import PluginManager

REPO_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

DOORS = Integration(
    domain="doors",
    name="Doors",
    config_schema=vol.Schema({vol.Required("count"): int, vol.Optional("label", default="door"): str}),
)
DEMO = Integration(domain="demo", name="Demo")  # no config_schema: any mapping is accepted as is


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(problem) for problem in error.value.problems]


# --- the YAML loader -------------------------------------------------------------------------------------------


def test_every_mapping_list_and_string_remembers_its_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "configuration.yaml",
        """
        http:
          host: 0.0.0.0
        recorder:
          exclude_event_types:
            - call_service
        """,
    )
    raw = load_configuration(tmp_path)
    assert raw["http"].source.file == "configuration.yaml"
    assert raw["http"].source.line == 2
    assert raw["http"]["host"].source.line == 2
    assert raw.key_sources["recorder"].line == 3
    assert raw["recorder"]["exclude_event_types"].source.line == 5
    assert raw["recorder"]["exclude_event_types"][0] == "call_service"


def test_secret_comes_from_secrets_yaml_next_to_the_file(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "db_password: hunter2\n")
    path = write(tmp_path, "configuration.yaml", "password: !secret db_password\n")
    assert load_yaml(path) == {"password": "hunter2"}


def test_secret_is_looked_up_in_parent_folders_up_to_the_config_dir(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "api_key: from-the-config-dir\nshared: outer\n")
    write(tmp_path, "doors/secrets.yaml", "shared: inner\n")
    write(tmp_path, "doors/front.yaml", "key: !secret api_key\nshared: !secret shared\n")
    write(tmp_path, "configuration.yaml", "doors: !include doors/front.yaml\n")
    raw = load_configuration(tmp_path)
    assert raw["doors"] == {"key": "from-the-config-dir", "shared": "inner"}


def test_secret_is_not_looked_up_above_the_config_dir(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "api_key: outside\n")
    write(tmp_path, "config/configuration.yaml", "key: !secret api_key\n")
    with pytest.raises(ConfigError) as error:
        load_configuration(tmp_path / "config")
    assert problems_of(error) == ["configuration.yaml, line 1, secret 'api_key' not found in secrets.yaml"]


def test_missing_secret_names_file_line_and_secret(tmp_path: Path) -> None:
    write(tmp_path, "secrets.yaml", "other: 1\n")
    write(tmp_path, "configuration.yaml", "recorder:\n  db_url: !secret recorder_db_url\n")
    assert [str(problem) for problem in check_config(tmp_path, {})] == [
        "configuration.yaml, line 2, secret 'recorder_db_url' not found in secrets.yaml"
    ]


def test_include_is_relative_to_the_including_file_and_may_nest(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "doors: !include doors/all.yaml\n")
    write(tmp_path, "doors/all.yaml", "front: !include front.yaml\nback: {count: 2}\n")
    write(tmp_path, "doors/front.yaml", "count: 1\n")
    raw = load_configuration(tmp_path)
    assert raw["doors"] == {"front": {"count": 1}, "back": {"count": 2}}
    assert raw["doors"]["front"].source.file == "doors/front.yaml"


def test_missing_include_names_the_including_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "gatehouse:\n  name: Gate\ndoors: !include doors.yaml\n")
    with pytest.raises(ConfigError) as error:
        load_configuration(tmp_path)
    assert problems_of(error) == ["configuration.yaml, line 3, included file doors.yaml not found"]


def test_include_loop_is_an_error_not_a_hang(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "a: !include a.yaml\n")
    write(tmp_path, "a.yaml", "b: !include configuration.yaml\n")
    with pytest.raises(ConfigError, match=r"include loop: configuration.yaml -> a.yaml -> configuration.yaml"):
        load_configuration(tmp_path)


def test_env_var_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_PORT", "9000")
    path = write(tmp_path, "configuration.yaml", "port: !env_var GATEHOUSE_PORT 8123\n")
    assert load_yaml(path) == {"port": "9000"}


def test_env_var_falls_back_to_its_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEHOUSE_HOST", raising=False)
    path = write(tmp_path, "configuration.yaml", "host: !env_var GATEHOUSE_HOST 0.0.0.0\n")
    assert load_yaml(path) == {"host": "0.0.0.0"}


def test_env_var_without_default_must_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEHOUSE_TOKEN", raising=False)
    path = write(tmp_path, "configuration.yaml", "token: !env_var GATEHOUSE_TOKEN\n")
    with pytest.raises(ConfigError) as error:
        load_yaml(path)
    assert problems_of(error) == [
        "configuration.yaml, line 1, environment variable 'GATEHOUSE_TOKEN' is not set and has no default"
    ]


def test_env_var_value_is_coerced_by_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_PORT", "9000")
    write(tmp_path, "configuration.yaml", "http:\n  port: !env_var GATEHOUSE_PORT\n")
    config, problems = validate_configuration(load_configuration(tmp_path), {})
    assert problems == []
    assert config["http"]["port"] == 9000


def test_input_is_a_placeholder_for_blueprints(tmp_path: Path) -> None:
    path = write(tmp_path, "blueprint.yaml", "trigger:\n  entity_id: !input door\n")
    loaded = load_yaml(path)
    assert loaded["trigger"]["entity_id"] == Input("door")
    assert loaded["trigger"]["entity_id"].source.line == 2


def test_malformed_yaml_names_file_line_column_and_reason(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "http:\n  port: 8123\n  host: [127.0.0.1\n")
    with pytest.raises(ConfigError) as error:
        load_configuration(tmp_path)
    (problem,) = error.value.problems
    assert (problem.file, problem.line, problem.column) == ("configuration.yaml", 4, 1)
    assert problem.message.startswith("invalid YAML: ")
    assert str(problem).startswith("configuration.yaml, line 4, column 1, invalid YAML: ")


def test_duplicate_key_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "http:\n  port: 80\n  port: 8080\n")
    with pytest.raises(ConfigError) as error:
        load_configuration(tmp_path)
    assert problems_of(error) == ["configuration.yaml, line 3, duplicate key 'port' (first written on line 2)"]


def test_missing_configuration_file_means_every_default(tmp_path: Path) -> None:
    config, problems = validate_configuration(load_configuration(tmp_path), {})
    assert problems == []
    assert config == {
        "gatehouse": {"name": "Gatehouse", "time_zone": "UTC"},
        "http": {"host": "127.0.0.1", "port": 8123},
        "recorder": {"keep_days": 10, "commit_interval": 1.0, "exclude_event_types": []},
        "auth": {
            "access_token_minutes": 15.0,
            "refresh_token_days": 30.0,
            "login_attempts": 5,
            "login_window_minutes": 5.0,
        },
        "logger": {"default": "info", "logs": {}},
        "backup": {"at": datetime.time(2, 0), "keep": 7, "path": "backups"},
    }


# --- validation ------------------------------------------------------------------------------------------------


def test_unknown_key_in_http_names_http_bogus_and_its_line(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "http:\n  port: 8123\n  bogus:\n    nested: 1\n")
    assert [str(problem) for problem in check_config(tmp_path, {})] == [
        "configuration.yaml, line 3, http.bogus: unknown key"
    ]


def test_wrong_type_names_the_field_and_its_line(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "recorder:\n  keep_days: 10\n  commit_interval: soon\n")
    assert check_config(tmp_path, {}) == [
        ConfigProblem("configuration.yaml", 3, "recorder.commit_interval", "expected a number")
    ]


def test_out_of_range_port_and_unknown_time_zone_are_problems(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "gatehouse:\n  time_zone: Mars/Olympus\nhttp:\n  port: 70000\n")
    problems = {problem.key: problem for problem in check_config(tmp_path, {})}
    assert problems["gatehouse.time_zone"].line == 2
    assert "unknown time zone 'Mars/Olympus'" in problems["gatehouse.time_zone"].message
    assert problems["http.port"].line == 4
    assert "65535" in problems["http.port"].message


def test_problem_in_an_included_file_points_into_that_file(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "http: !include http.yaml\n")
    write(tmp_path, "http.yaml", "host: 0.0.0.0\nport: eighty\n")
    assert [str(problem) for problem in check_config(tmp_path, {})] == ["http.yaml, line 2, http.port: expected int"]


def test_unknown_top_level_section_is_a_problem_at_its_key(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "http:\n  port: 8123\nfoo:\n  bar: 1\n")
    assert [str(problem) for problem in check_config(tmp_path, {})] == [
        "configuration.yaml, line 3, foo: no integration named 'foo'"
    ]


def test_failing_section_is_dropped_and_the_others_survive(tmp_path: Path) -> None:
    write(
        tmp_path,
        "configuration.yaml",
        """
        http:
          port: 8124
        doors:
          count: many
        demo:
        """,
    )
    config, problems = validate_configuration(load_configuration(tmp_path), {"doors": DOORS, "demo": DEMO})
    assert "doors" not in config
    assert config["http"]["port"] == 8124
    assert config["demo"] == {}
    assert [str(problem) for problem in problems] == ["configuration.yaml, line 4, doors.count: expected int"]


def test_integration_section_is_validated_by_its_descriptor_schema(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "doors:\n  count: 3\n")
    config, problems = validate_configuration(load_configuration(tmp_path), {"doors": DOORS})
    assert problems == []
    assert config["doors"] == {"count": 3, "label": "door"}


def test_integration_schema_reports_missing_required_key_at_the_section(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "doors:\n  label: gate\n")
    assert check_config(tmp_path, {"doors": DOORS}) == [
        ConfigProblem("configuration.yaml", 2, "doors.count", "required")
    ]


def test_integration_without_schema_takes_a_mapping_as_is_but_not_a_list(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "demo:\n  cameras: 2\n")
    config, _ = validate_configuration(load_configuration(tmp_path), {"demo": DEMO})
    assert config["demo"] == {"cameras": 2}

    write(tmp_path, "configuration.yaml", "demo:\n  - camera\n")
    config, problems = validate_configuration(load_configuration(tmp_path), {"demo": DEMO})
    assert "demo" not in config
    assert [(problem.key, problem.line) for problem in problems] == [("demo", 2)]


def test_a_schema_that_crashes_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    def explode(value: object) -> object:
        raise RuntimeError("bug in the integration")

    broken = Integration(domain="broken", name="Broken", config_schema=vol.Schema(explode))
    write(tmp_path, "configuration.yaml", "http:\n  port: 8123\nbroken:\n  x: 1\n")
    config, problems = validate_configuration(load_configuration(tmp_path), {"broken": broken})
    assert "broken" not in config
    assert config["http"]["port"] == 8123
    assert [str(problem) for problem in problems] == [
        "configuration.yaml, line 3, broken: its configuration schema failed: RuntimeError: bug in the integration"
    ]


def test_core_config_gives_typed_settings_with_sqlite_in_the_config_dir(tmp_path: Path) -> None:
    write(tmp_path, "configuration.yaml", "logger:\n  default: WARNING\n  logs:\n    hub.core: debug\n")
    config, _ = validate_configuration(load_configuration(tmp_path), {})
    core = CoreConfig.from_config(config, tmp_path)
    assert (core.http_host, core.http_port, core.keep_days) == ("127.0.0.1", 8123, 10)
    assert core.db_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'gatehouse.db'}"
    assert str(core.time_zone) == "UTC"
    assert (core.log_level, core.log_levels) == (30, {"hub.core": 10})


def test_shipped_configuration_validates_cleanly() -> None:
    plugins = PluginManager()
    plugins.load_builtin()  # the shipped file configures built-in integrations (demo, stations, detection)
    config, problems = validate_configuration(load_configuration(REPO_CONFIG_DIR), plugins.integrations)
    assert problems == []
    assert config["http"] == {"host": "127.0.0.1", "port": 8123}
    assert config["recorder"]["keep_days"] == 10
    assert config["demo"] == {"interval": 5.0, "tenant": "demo"}  # the demo's defaults
    assert config["stations"]["heartbeat_interval"] == 10
    assert config["detection"]["retention"]["days"] == 14
