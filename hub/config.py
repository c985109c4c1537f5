"""configuration.yaml: the core sections' schemas, and validation that names the file and line of each problem.

A section with errors is dropped and reported rather than stopping the hub, so one mistyped integration
section never keeps the doors and cameras of the others offline. Reading the YAML lives in ``hub.config_yaml``.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import voluptuous as vol

from hub.config_yaml import ConfigError, ConfigProblem, Input, NodeDict, NodeList, NodeStr, Source, load_yaml
from hub.integration import Integration
from hub.store.backup import BACKUP_SCHEMA
from hub.validation import field_path, invalid_fields

__all__ = [
    "CONFIG_FILE",
    "CORE_SCHEMAS",
    "ConfigError",
    "ConfigProblem",
    "CoreConfig",
    "Input",
    "NodeDict",
    "NodeList",
    "NodeStr",
    "Source",
    "check_config",
    "load_configuration",
    "load_yaml",
    "validate_configuration",
]

_LOGGER = logging.getLogger(__name__)

CONFIG_FILE = "configuration.yaml"
DEFAULT_DATABASE_FILE = "gatehouse.db"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "notset")


def _whole_number(value: Any) -> int:
    """An int, or a string holding one (``!env_var`` always gives strings); never a bool or a float."""
    if isinstance(value, bool | float):
        raise vol.Invalid("expected int")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise vol.Invalid("expected int") from None


def _number(value: Any) -> float:
    """A float, an int, or a string holding one; never a bool."""
    if isinstance(value, bool):
        raise vol.Invalid("expected a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise vol.Invalid("expected a number") from None


def _time_zone(value: Any) -> str:
    try:
        zoneinfo.ZoneInfo(str(value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid(f"unknown time zone {value!r}: expected an IANA name like 'Europe/Paris'") from None
    return str(value)


def _log_level(value: Any) -> str:
    level = str(value).lower()
    if level not in LOG_LEVELS:
        raise vol.Invalid(f"unknown log level {value!r}: expected one of {', '.join(LOG_LEVELS)}")
    return level


CORE_SCHEMAS: dict[str, vol.Schema] = {
    "gatehouse": vol.Schema(
        {
            vol.Optional("name", default="Gatehouse"): str,
            vol.Optional("time_zone", default="UTC"): _time_zone,
        }
    ),
    "http": vol.Schema(
        {
            vol.Optional("host", default="127.0.0.1"): str,
            vol.Optional("port", default=8123): vol.All(_whole_number, vol.Range(min=1, max=65535)),
        }
    ),
    "recorder": vol.Schema(
        {
            vol.Optional("db_url"): str,  # absent: SQLite in the config directory (CoreConfig.db_url)
            vol.Optional("keep_days", default=10): vol.All(_whole_number, vol.Range(min=1)),
            vol.Optional("commit_interval", default=1.0): vol.All(_number, vol.Range(min=0, min_included=False)),
            vol.Optional("exclude_event_types", default=list): [str],
        }
    ),
    "auth": vol.Schema(
        {
            vol.Optional("access_token_minutes", default=15): vol.All(_number, vol.Range(min=0, min_included=False)),
            vol.Optional("refresh_token_days", default=30): vol.All(_number, vol.Range(min=0, min_included=False)),
            vol.Optional("login_attempts", default=5): vol.All(_whole_number, vol.Range(min=1)),
            vol.Optional("login_window_minutes", default=5): vol.All(_number, vol.Range(min=0, min_included=False)),
        }
    ),
    "logger": vol.Schema(
        {
            vol.Optional("default", default="info"): _log_level,
            vol.Optional("logs", default=dict): {str: _log_level},
        }
    ),
    "backup": BACKUP_SCHEMA,
}


def load_configuration(config_dir: Path) -> NodeDict:
    """Read configuration.yaml as a node tree; a missing file is an empty configuration (every default)."""
    path = Path(config_dir) / CONFIG_FILE
    if not path.is_file():
        _LOGGER.info("No %s in %s: starting with the default configuration", CONFIG_FILE, config_dir)
        return NodeDict()
    raw = load_yaml(path, config_dir)
    if raw is None:
        return NodeDict()
    if not isinstance(raw, NodeDict):
        source = getattr(raw, "source", None) or Source(CONFIG_FILE, 1)
        raise ConfigError([ConfigProblem.at(source, "", "expected a mapping of sections (like 'http:') at the top")])
    return raw


def validate_configuration(
    raw: Mapping[str, Any], integrations: Mapping[str, Integration]
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """Validate every section; return the valid sections and the problems of the others (which are dropped)."""
    config: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    for domain, schema in CORE_SCHEMAS.items():
        _validate_section(raw, domain, schema, config, problems)
    for domain in raw:
        if domain in CORE_SCHEMAS:
            continue
        integration = integrations.get(domain)
        if integration is None:
            source = _locate(raw, [domain], into_last=False)
            problems.append(ConfigProblem.at(source, str(domain), f"no integration named {domain!r}"))
        elif integration.config_schema is None:
            _validate_section(raw, domain, vol.Schema(dict), config, problems)
        else:
            _validate_section(raw, domain, integration.config_schema, config, problems)
    return config, problems


def check_config(config_dir: Path, integrations: Mapping[str, Integration]) -> list[ConfigProblem]:
    """Everything wrong with a config directory, for ``gatehouse check-config``; empty when all is well."""
    try:
        raw = load_configuration(config_dir)
    except ConfigError as error:
        return error.problems
    return validate_configuration(raw, integrations)[1]


def _validate_section(
    raw: Mapping[str, Any], domain: str, schema: vol.Schema, config: dict[str, Any], problems: list[ConfigProblem]
) -> None:
    """Validate one section into ``config``, or add its problems; an empty section (``demo:``) means defaults."""
    value = raw.get(domain)
    try:
        config[domain] = schema({} if value is None else value)
    except vol.Invalid as error:
        for item in _each_error(error):
            path = [domain, *item.path]
            (message,) = invalid_fields(item).values()  # one field per item: the shared wording of reasons
            source = _locate(raw, path, into_last=message != "unknown key")
            problems.append(ConfigProblem.at(source, field_path(path), message))
    except Exception as error:  # an integration's schema is third-party code: report it, never crash the start
        _LOGGER.debug("Configuration schema of %s raised", domain, exc_info=True)
        message = f"its configuration schema failed: {type(error).__name__}: {error}"
        problems.append(ConfigProblem.at(_locate(raw, [domain], into_last=False), domain, message))


def _each_error(error: vol.Invalid) -> Iterator[vol.Invalid]:
    """The single errors inside a voluptuous error, however deeply a custom validator nested them."""
    if isinstance(error, vol.MultipleInvalid):
        for item in error.errors:
            yield from _each_error(item)
    else:
        yield error


def _locate(node: Any, path: list[Any], into_last: bool = True) -> Source | None:
    """Follow a voluptuous error path through the node tree; the deepest key or node with a source wins.

    With ``into_last`` false the last step stops at the key's own line (an unknown key is about the key,
    not about the value written under it).
    """
    found: Source | None = getattr(node, "source", None)
    for index, part in enumerate(path):
        if isinstance(node, NodeDict) and part in node.key_sources:
            found = node.key_sources[part]
        if not into_last and index == len(path) - 1:
            break
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        found = getattr(node, "source", None) or found
    return found


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """Typed access to the core sections of a validated configuration (defaults where a section was dropped)."""

    name: str
    time_zone: zoneinfo.ZoneInfo
    http_host: str
    http_port: int
    db_url: str
    keep_days: int
    commit_interval: float
    exclude_event_types: frozenset[str]
    log_level: int
    log_levels: Mapping[str, int]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], config_dir: Path) -> CoreConfig:
        core = {domain: config.get(domain) or schema({}) for domain, schema in CORE_SCHEMAS.items()}
        gatehouse, http, recorder, logger = core["gatehouse"], core["http"], core["recorder"], core["logger"]
        default_db = f"sqlite+aiosqlite:///{(Path(config_dir) / DEFAULT_DATABASE_FILE).resolve()}"
        return cls(
            name=str(gatehouse["name"]),
            time_zone=zoneinfo.ZoneInfo(gatehouse["time_zone"]),
            http_host=str(http["host"]),
            http_port=http["port"],
            db_url=str(recorder.get("db_url") or default_db),
            keep_days=recorder["keep_days"],
            commit_interval=recorder["commit_interval"],
            exclude_event_types=frozenset(recorder["exclude_event_types"]),
            log_level=logging.getLevelName(logger["default"].upper()),
            log_levels={name: logging.getLevelName(level.upper()) for name, level in logger["logs"].items()},
        )
