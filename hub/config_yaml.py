"""Reading configuration YAML: nodes that remember where they were written, and the Gatehouse tags.

Every mapping, list and string the loader builds knows its file and line, so that a validation error found
long after parsing can still point the user at the line to fix (Home Assistant's ``NodeDictClass`` idea).
Tags: ``!secret NAME``, ``!include FILE``, ``!env_var NAME [DEFAULT]`` and ``!input NAME``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hub.exceptions import HubError

if TYPE_CHECKING:
    from yaml import SafeLoader as _BaseLoader
else:
    # the C parser is several times faster; fall back to the pure-Python one where libyaml is missing
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SECRETS_FILE = "secrets.yaml"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a node was written: ``file`` relative to the config directory when inside it, ``line`` from 1."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}"


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the configuration, phrased for the person who has to fix it."""

    file: str | None
    line: int | None
    key: str  # dotted path such as ``http.port``; empty when the problem is not about one key
    message: str
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        text = f"{self.key}: {self.message}" if self.key else self.message
        return ", ".join([*parts, text])

    @classmethod
    def at(cls, source: Source | None, key: str, message: str) -> ConfigProblem:
        """A problem located at a node's source (or nowhere, when the node has none)."""
        if source is None:
            return cls(None, None, key, message)
        return cls(source.file, source.line, key, message)


class ConfigError(HubError):
    """The configuration could not be read or is invalid; ``problems`` says each thing wrong and where."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class NodeDict(dict[Any, Any]):
    """A mapping from YAML: ``source`` is where it starts, ``key_sources`` where each of its keys is written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source: Source | None = None
        self.key_sources: dict[Any, Source] = {}


class NodeList(list[Any]):
    """A sequence from YAML that remembers where it starts."""

    source: Source | None = None


class NodeStr(str):
    """A string from YAML that remembers where it was written."""

    source: Source | None = None


@dataclass(frozen=True, slots=True)
class Input:
    """``!input NAME``: a placeholder a blueprint replaces with the value the user gave for that input."""

    name: str
    source: Source | None = field(default=None, compare=False)


@dataclass
class _LoadContext:
    """What every file read by one load shares: the config directory, the include chain, secrets read so far."""

    config_dir: Path
    including: list[Path] = field(default_factory=list)
    secrets: dict[Path, dict[Any, Any]] = field(default_factory=dict)

    def display_name(self, path: Path) -> str:
        try:
            return path.relative_to(self.config_dir).as_posix()
        except ValueError:
            return str(path)


class _Loader(_BaseLoader):
    """A safe loader for one file; it builds node classes and resolves the Gatehouse tags."""

    def __init__(self, stream: str, path: Path, context: _LoadContext) -> None:
        super().__init__(stream)
        self.path = path
        self.context = context

    def source_of(self, node: yaml.Node) -> Source:
        return Source(self.context.display_name(self.path), node.start_mark.line + 1)

    def fail(self, node: yaml.Node, message: str) -> ConfigError:
        return ConfigError([ConfigProblem.at(self.source_of(node), "", message)])


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> NodeDict:
    loader.flatten_mapping(node)  # resolves ``<<`` merge keys first
    mapping = NodeDict()
    mapping.source = loader.source_of(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise loader.fail(key_node, "a mapping key must be a plain value, not a list or mapping") from None
        if key in mapping.key_sources:
            first = mapping.key_sources[key].line
            raise loader.fail(key_node, f"duplicate key {key!r} (first written on line {first})")
        mapping.key_sources[key] = loader.source_of(key_node)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> NodeList:
    sequence = NodeList(loader.construct_object(item, deep=True) for item in node.value)
    sequence.source = loader.source_of(node)
    return sequence


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> NodeStr:
    text = NodeStr(loader.construct_scalar(node))
    text.source = loader.source_of(node)
    return text


def _tag_argument(loader: _Loader, node: yaml.Node, tag: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise loader.fail(node, f"{tag} needs a name after it")
    return str(node.value).strip()


def _construct_include(loader: _Loader, node: yaml.Node) -> Any:
    """``!include FILE``: the content of another YAML file, relative to the including file."""
    path = (loader.path.parent / _tag_argument(loader, node, "!include")).resolve()
    if not path.is_file():
        raise loader.fail(node, f"included file {loader.context.display_name(path)} not found")
    return _load_file(path, loader.context)


def _construct_secret(loader: _Loader, node: yaml.Node) -> Any:
    """``!secret NAME``: from secrets.yaml next to the file, else in each parent folder up to the config dir."""
    name = _tag_argument(loader, node, "!secret")
    folder, config_dir = loader.path.parent, loader.context.config_dir
    folders = [folder]
    while folder != config_dir and config_dir in folder.parents:
        folder = folder.parent
        folders.append(folder)
    for folder in folders:
        secrets = _secrets_in(folder, loader.context)
        if name in secrets:
            return secrets[name]
    raise loader.fail(node, f"secret {name!r} not found in {SECRETS_FILE}")


def _construct_env_var(loader: _Loader, node: yaml.Node) -> NodeStr:
    """``!env_var NAME [DEFAULT]``: an environment variable (always a string; schemas coerce it)."""
    name, *default = _tag_argument(loader, node, "!env_var").split(maxsplit=1)
    value = os.environ.get(name)
    if value is None:
        if not default:
            raise loader.fail(node, f"environment variable {name!r} is not set and has no default")
        value = default[0]
    text = NodeStr(value)
    text.source = loader.source_of(node)
    return text


def _construct_input(loader: _Loader, node: yaml.Node) -> Input:
    return Input(_tag_argument(loader, node, "!input"), loader.source_of(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG, _construct_str)
_Loader.add_constructor("!include", _construct_include)
_Loader.add_constructor("!secret", _construct_secret)
_Loader.add_constructor("!env_var", _construct_env_var)
_Loader.add_constructor("!input", _construct_input)


def _secrets_in(folder: Path, context: _LoadContext) -> dict[Any, Any]:
    """The secrets of one folder (empty when it has no secrets.yaml), read once per load."""
    path = folder / SECRETS_FILE
    if path not in context.secrets:
        secrets = (_load_file(path, context) if path.is_file() else None) or {}
        if not isinstance(secrets, dict):
            source = Source(context.display_name(path), 1)
            raise ConfigError([ConfigProblem.at(source, "", "a secrets file must be a mapping of names to values")])
        context.secrets[path] = secrets
    return context.secrets[path]


def _load_file(path: Path, context: _LoadContext) -> Any:
    name = context.display_name(path)
    if path in context.including:
        chain = " -> ".join(context.display_name(item) for item in [*context.including, path])
        raise ConfigError([ConfigProblem(name, None, "", f"include loop: {chain}")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([ConfigProblem(name, None, "", f"cannot read file: {error}")]) from error
    context.including.append(path)
    loader = _Loader(text, path, context)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        raise ConfigError([_parse_problem(name, error)]) from error
    except yaml.YAMLError as error:
        raise ConfigError([ConfigProblem(name, None, "", f"invalid YAML: {error}")]) from error
    finally:
        loader.dispose()
        context.including.pop()


def _parse_problem(name: str, error: yaml.MarkedYAMLError) -> ConfigProblem:
    mark = error.problem_mark or error.context_mark
    reason = error.problem or error.context or "cannot parse"
    if mark is None:
        return ConfigProblem(name, None, "", f"invalid YAML: {reason}")
    return ConfigProblem(name, mark.line + 1, "", f"invalid YAML: {reason}", column=mark.column + 1)


def load_yaml(path: Path, config_dir: Path | None = None) -> Any:
    """Read one YAML file into node classes; raises ConfigError naming the file and line of what is wrong.

    ``config_dir`` bounds the search for secrets.yaml and shortens file names in messages (default: the
    file's own folder).
    """
    path = path.resolve()
    context = _LoadContext((config_dir or path.parent).resolve())
    return _load_file(path, context)
