"""Automation blueprints in Home Assistant's format: a reusable automation with ``!input`` blanks.

A blueprint file has a ``blueprint:`` header (``name``, ``description``, ``domain: automation``, ``author``,
``input:`` with each input's ``name``, ``description``, ``default`` and ``selector``, optionally grouped in
sections) and an automation body using ``!input NAME`` wherever a user's value goes. An automation written as
``use_blueprint: {path: gatehouse/device_offline.yaml, input: {...}}`` is expanded by ``expand`` into a plain
automation: inputs checked against their selectors, defaults applied, the automation's own keys (``id``,
``alias``, ``tenant``...) laid over the blueprint's body.

Blueprints are read from ``<config>/blueprints/automation/`` (the user's, which win) and from the shipped
``blueprints/automation/`` next to the ``hub`` package (``$GATEHOUSE_BLUEPRINTS`` points an installed hub at a
copy). Files are re-read only when they change.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import voluptuous as vol

import hub as hub_package
from hub.automation import selectors
from hub.automation.errors import AutomationError
from hub.config_yaml import ConfigError, Input, NodeDict, Source, load_yaml

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

BLUEPRINTS_ENV = "GATEHOUSE_BLUEPRINTS"
DOMAIN = "automation"
CONF_BLUEPRINT = "blueprint"
CONF_USE_BLUEPRINT = "use_blueprint"
CONF_PATH = "path"
CONF_INPUT = "input"
SOURCE_SHIPPED = "shipped"
SOURCE_CONFIG = "config"
_DATA_KEY = "automation.blueprints"


class BlueprintError(AutomationError):
    """A blueprint that cannot be read, or inputs that do not fit it. ``key`` is the dotted path of what is wrong
    (``blueprint.input.door`` in the file, ``use_blueprint.input.door`` in an automation); as an AutomationError
    the manager reports it under the automation's id."""

    def __init__(self, path: str, key: str, reason: str) -> None:
        super().__init__(None, key, reason)
        self.args = (f"blueprint {path}: {key}: {reason}" if key else f"blueprint {path}: {reason}",)
        self.path = path


def shipped_dir() -> Path:
    """``$GATEHOUSE_BLUEPRINTS`` when set, else ``blueprints/`` next to the ``hub`` package."""
    configured = os.environ.get(BLUEPRINTS_ENV)
    if configured:
        return Path(configured)
    return Path(hub_package.__file__).resolve().parent.parent / "blueprints"


# ------------------------------------------------------------------------------------------------ model


@dataclass(frozen=True, slots=True)
class BlueprintInput:
    """One input: ``key`` is what ``!input`` names; ``name`` is the label the form shows."""

    key: str
    name: str
    description: str = ""
    selector: dict[str, Any] = field(default_factory=lambda: {"object": {}})
    default: Any = None
    has_default: bool = False
    section: str | None = None

    @property
    def required(self) -> bool:
        return not self.has_default

    def form_field(self) -> dict[str, Any]:
        return {
            "name": self.key,
            "label": self.name,
            "description": self.description,
            "required": self.required,
            "default": _plain(self.default) if self.has_default else None,
            "section": self.section,
            **selectors.form_field(self.selector),
        }


@dataclass(frozen=True, slots=True)
class Blueprint:
    """A read blueprint. ``path`` is relative to ``blueprints/automation/`` (``gatehouse/device_offline.yaml``)."""

    path: str
    name: str
    description: str
    author: str | None
    source_url: str | None
    inputs: dict[str, BlueprintInput]
    sections: list[dict[str, Any]]
    body: dict[str, Any]
    source: str
    file: Path

    def form_schema(self) -> list[dict[str, Any]]:
        """The inputs as form fields, in the order the blueprint declares them."""
        return [blueprint_input.form_field() for blueprint_input in self.inputs.values()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "description": self.description,
            "domain": DOMAIN,
            "author": self.author,
            "source_url": self.source_url,
            "source": self.source,
            "sections": self.sections,
            "fields": self.form_schema(),
        }


# ---------------------------------------------------------------------------------------------- reading

_INPUT_SCHEMA = vol.Schema(
    {
        vol.Optional("name"): str,
        vol.Optional("description"): str,
        vol.Optional("default"): object,
        vol.Optional("selector"): selectors.check_selector,
    }
)
_SECTION_SCHEMA = vol.Schema(
    {
        vol.Optional("name"): str,
        vol.Optional("description"): str,
        vol.Optional("icon"): str,
        vol.Optional("collapsed"): bool,
        vol.Required("input"): {str: vol.Any(None, _INPUT_SCHEMA)},
    }
)
_HEADER_SCHEMA = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Required("domain"): vol.All(str, vol.In([DOMAIN], msg="only automation blueprints are supported")),
        vol.Optional("description", default=""): str,
        vol.Optional("author"): str,
        vol.Optional("source_url"): str,
        vol.Optional("homeassistant"): dict,
        vol.Optional("input", default=dict): {str: vol.Any(None, dict)},
    }
)


def read_blueprint(file: Path, path: str, source: str, root: Path) -> Blueprint:
    """Read and check one blueprint file; raises BlueprintError naming the key (and line) of the problem."""
    try:
        data = load_yaml(file, root.parent)  # names in messages read blueprints/automation/...; secrets.yaml too
    except ConfigError as error:
        raise BlueprintError(path, "", str(error)) from None
    if not isinstance(data, Mapping) or not isinstance(data.get(CONF_BLUEPRINT), Mapping):
        raise BlueprintError(path, CONF_BLUEPRINT, "a blueprint file starts with a 'blueprint:' mapping")
    try:
        header = _HEADER_SCHEMA(dict(data[CONF_BLUEPRINT]))
    except vol.Invalid as error:
        raise _located(data, path, _key(CONF_BLUEPRINT, error), error.error_message) from None
    inputs: dict[str, BlueprintInput] = {}
    sections: list[dict[str, Any]] = []
    for key, value in header["input"].items():
        if isinstance(value, Mapping) and CONF_INPUT in value:
            section = _validated(data, path, f"blueprint.input.{key}", _SECTION_SCHEMA, value)
            sections.append(
                {k: section[k] for k in ("name", "description", "icon", "collapsed") if k in section} | {"key": key}
            )
            for inner_key, inner in section[CONF_INPUT].items():
                _add_input(data, path, inputs, inner_key, inner, section=str(key))
        else:
            _add_input(data, path, inputs, key, value, section=None)
    body = {key: value for key, value in data.items() if key != CONF_BLUEPRINT}
    for used in _inputs_used(body):
        if used.name not in inputs:
            where = f" ({used.source})" if used.source else ""
            raise BlueprintError(path, "blueprint.input", f"!input {used.name}{where} is not declared")
    return Blueprint(
        path=path,
        name=header["name"],
        description=header["description"],
        author=header.get("author"),
        source_url=header.get("source_url"),
        inputs=inputs,
        sections=sections,
        body=body,
        source=source,
        file=file,
    )


def _validated(data: Any, path: str, key: str, schema: vol.Schema, value: Any) -> dict[str, Any]:
    try:
        return dict(schema(dict(value)))
    except vol.Invalid as error:
        raise _located(data, path, _key(key, error), error.error_message) from None


def _add_input(
    data: Any, path: str, inputs: dict[str, BlueprintInput], key: str, value: Any, section: str | None
) -> None:
    where = f"blueprint.input.{section}.input.{key}" if section else f"blueprint.input.{key}"
    if key in inputs:
        raise _located(data, path, where, "this input is declared twice")
    config = _validated(data, path, where, _INPUT_SCHEMA, value or {})
    inputs[key] = BlueprintInput(
        key=key,
        name=config.get("name", key),
        description=config.get("description", ""),
        selector=config.get("selector") or {"object": {}},
        default=config.get("default"),
        has_default="default" in config,
        section=section,
    )


def _located(data: Any, path: str, key: str, reason: str) -> BlueprintError:
    """The error, with the line of the deepest part of ``key`` the YAML nodes know (``line 7: ...``)."""
    source: Source | None = getattr(data, "source", None)
    node = data
    for part in key.split("."):
        if isinstance(node, NodeDict) and part in node.key_sources:
            source = node.key_sources[part]
        node = node.get(part) if isinstance(node, Mapping) else None
        source = getattr(node, "source", None) or source
    return BlueprintError(path, key, f"line {source.line}: {reason}" if source is not None else reason)


def _key(prefix: str, error: vol.Invalid) -> str:
    first = error.errors[0] if isinstance(error, vol.MultipleInvalid) else error
    return ".".join([prefix, *(str(part) for part in first.path)])


def _inputs_used(value: Any) -> Iterator[Input]:
    if isinstance(value, Input):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _inputs_used(item)
    elif isinstance(value, list):
        for item in value:
            yield from _inputs_used(item)


def _substitute(value: Any, inputs: Mapping[str, Any]) -> Any:
    """A copy of ``value`` with every ``!input`` replaced (mappings and lists rebuilt as plain ones)."""
    if isinstance(value, Input):
        return copy.deepcopy(inputs[value.name])
    if isinstance(value, Mapping):
        return {key: _substitute(item, inputs) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, inputs) for item in value]
    return value


def _plain(value: Any) -> Any:
    """YAML node classes as plain JSON types (a default shown in a form)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


# --------------------------------------------------------------------------------------------- library


class BlueprintLibrary:
    """The blueprints of one hub: the config directory's first, then the shipped ones; cached per file."""

    def __init__(self, config_dir: Path, shipped: Path | None = None) -> None:
        self.roots: list[tuple[str, Path]] = [
            (SOURCE_CONFIG, Path(config_dir) / "blueprints"),
            (SOURCE_SHIPPED, shipped or shipped_dir()),
        ]
        self._cache: dict[Path, tuple[tuple[int, int], Blueprint | BlueprintError]] = {}

    def list_blueprints(self) -> list[Blueprint]:
        """Every readable blueprint, by path; a broken file is logged once (and listed in ``errors()``)."""
        found: dict[str, Blueprint] = {}
        for path, file, source, root in self._files():
            if path in found:
                continue  # the config directory's copy hides the shipped one
            result = self._read(file, path, source, root)
            if isinstance(result, Blueprint):
                found[path] = result
        return [found[path] for path in sorted(found)]

    def errors(self) -> list[BlueprintError]:
        """Why each broken blueprint file could not be read."""
        seen: set[str] = set()
        broken = []
        for path, file, source, root in self._files():
            if path in seen:
                continue
            seen.add(path)
            result = self._read(file, path, source, root)
            if isinstance(result, BlueprintError):
                broken.append(result)
        return broken

    def get(self, path: str) -> Blueprint:
        """The blueprint at ``path`` (relative to ``blueprints/automation/``); raises BlueprintError."""
        if not isinstance(path, str) or not path.strip():
            raise BlueprintError(str(path), CONF_PATH, "expected the path of a blueprint such as gatehouse/x.yaml")
        relative = Path(path.strip())
        if relative.is_absolute() or ".." in relative.parts or relative.suffix not in (".yaml", ".yml"):
            raise BlueprintError(path, CONF_PATH, "expected a .yaml path inside blueprints/automation/")
        for source, root in self.roots:
            file = root / DOMAIN / relative
            if file.is_file():
                result = self._read(file, relative.as_posix(), source, root)
                if isinstance(result, BlueprintError):
                    raise result
                return result
        raise BlueprintError(path, CONF_PATH, "no such blueprint")

    def form_schema(self, path: str) -> list[dict[str, Any]]:
        return self.get(path).form_schema()

    def _files(self) -> Iterator[tuple[str, Path, str, Path]]:
        """``(path, file, source, root)`` for each file under each root's ``automation/``, config directory first."""
        for source, root in self.roots:
            base = root / DOMAIN
            if not base.is_dir():
                continue
            for file in sorted([*base.rglob("*.yaml"), *base.rglob("*.yml")]):
                if file.is_file():
                    yield file.relative_to(base).as_posix(), file, source, root

    def _read(self, file: Path, path: str, source: str, root: Path) -> Blueprint | BlueprintError:
        """The file's blueprint, or why it is refused (logged once per version of the file)."""
        try:
            stat = file.stat()
        except OSError as error:
            return BlueprintError(path, "", f"cannot read file: {error}")
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(file)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        result: Blueprint | BlueprintError
        try:
            result = read_blueprint(file, path, source, root)
        except BlueprintError as error:
            _LOGGER.error("Blueprint %s (%s) is refused: %s: %s", path, file, error.key or "file", error.reason)
            result = error
        self._cache[file] = (stamp, result)
        return result

    def expand(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The plain automation an automation with ``use_blueprint`` stands for; raises BlueprintError whose key
        is the automation's (``use_blueprint.input.door``)."""
        use = config.get(CONF_USE_BLUEPRINT)
        if not isinstance(use, Mapping):
            raise BlueprintError("", CONF_USE_BLUEPRINT, "expected a mapping with 'path' and 'input'")
        path = use.get(CONF_PATH)
        try:
            blueprint = self.get(path)  # type: ignore[arg-type]
        except BlueprintError as error:  # a missing or broken blueprint is the automation's ``use_blueprint.path``
            reason = error.reason if error.key == CONF_PATH else f"the blueprint is broken: {error.key}: {error.reason}"
            raise BlueprintError(error.path, f"{CONF_USE_BLUEPRINT}.{CONF_PATH}", reason) from None
        unknown_keys = [key for key in use if key not in (CONF_PATH, CONF_INPUT)]
        if unknown_keys:
            raise BlueprintError(blueprint.path, f"{CONF_USE_BLUEPRINT}.{unknown_keys[0]}", "unknown key")
        given = use.get(CONF_INPUT) or {}
        if not isinstance(given, Mapping):
            raise BlueprintError(blueprint.path, f"{CONF_USE_BLUEPRINT}.{CONF_INPUT}", "expected a mapping of inputs")
        values = _input_values(blueprint, given)
        body = _substitute(blueprint.body, values)
        own = {key: copy.deepcopy(value) for key, value in config.items() if key != CONF_USE_BLUEPRINT}
        return {**body, **own}


def _input_values(blueprint: Blueprint, given: Mapping[str, Any]) -> dict[str, Any]:
    prefix = f"{CONF_USE_BLUEPRINT}.{CONF_INPUT}"
    for key in given:
        if key not in blueprint.inputs:
            known = ", ".join(blueprint.inputs) or "none"
            raise BlueprintError(blueprint.path, f"{prefix}.{key}", f"unknown input; this blueprint has: {known}")
    values: dict[str, Any] = {}
    for key, blueprint_input in blueprint.inputs.items():
        value = given.get(key)
        if value is None:  # an empty form field is "not given": the default applies
            if not blueprint_input.has_default:
                raise BlueprintError(
                    blueprint.path, f"{prefix}.{key}", f"required input '{blueprint_input.name}' is missing"
                )
            values[key] = _plain(blueprint_input.default)
            continue
        try:
            values[key] = selectors.validate_value(blueprint_input.selector, _plain(value))
        except vol.Invalid as error:
            raise BlueprintError(blueprint.path, f"{prefix}.{key}", error.error_message) from None
    return values


# ------------------------------------------------------------------------------------- hub-level access


def library(hub: Hub) -> BlueprintLibrary:
    """The hub's blueprint library (one per hub, made on first use)."""
    found = hub.data.get(_DATA_KEY)
    if not isinstance(found, BlueprintLibrary):
        found = hub.data[_DATA_KEY] = BlueprintLibrary(hub.config_dir)
    return found


def list_blueprints(hub: Hub) -> list[Blueprint]:
    return library(hub).list_blueprints()


def get(hub: Hub, path: str) -> Blueprint:
    return library(hub).get(path)


def form_schema(hub: Hub, path: str) -> list[dict[str, Any]]:
    return library(hub).form_schema(path)


def expand(config: Mapping[str, Any], hub: Hub) -> dict[str, Any]:
    """Called by the automation manager for an automation with ``use_blueprint``; raises BlueprintError."""
    return library(hub).expand(config)


__all__ = [
    "Blueprint",
    "BlueprintError",
    "BlueprintInput",
    "BlueprintLibrary",
    "expand",
    "form_schema",
    "get",
    "library",
    "list_blueprints",
    "shipped_dir",
]
