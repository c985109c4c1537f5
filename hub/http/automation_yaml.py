"""An automation as YAML text for the dashboard's editor, and back: parsing with errors that name the line.

Text from the API is parsed with the plain safe loader: ``!secret``, ``!include`` and ``!env_var`` would read
the hub's files and environment on behalf of whoever typed them, so they are refused (edit automations.yaml on
the hub for those), and so are aliases (a "billion laughs" body would expand without bound). A refused
configuration's dotted keys (``actions.2.action``) are located in the text, so the editor can say "line 7" next
to each reason.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from hub.http import dumps
from hub.http.errors import ApiError

__all__ = ["config_as_yaml", "line_of", "parse_automation_yaml", "with_lines"]

#: The field a YAML body's syntax errors are reported under.
YAML_FIELD = "yaml"


def config_as_yaml(config: Any) -> str:
    """The configuration as block YAML in the order it was written (loader node types become plain ones)."""
    plain = json.loads(dumps(config))
    return str(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, default_flow_style=False))


def parse_automation_yaml(text: str) -> dict[str, Any]:
    """One automation (a mapping; a list holding one mapping is accepted too). 400 naming line and column."""
    try:
        _refuse_aliases(text)
        value = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        reason = f"{where}{error.problem or error}"
        raise ApiError(400, "invalid_yaml", f"the YAML could not be read: {reason}", {YAML_FIELD: reason}) from None
    except yaml.YAMLError as error:
        raise ApiError(400, "invalid_yaml", f"the YAML could not be read: {error}", {YAML_FIELD: str(error)}) from None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        reason = "expected one automation: a mapping with id, triggers, actions"
        raise ApiError(400, "invalid_yaml", reason, {YAML_FIELD: reason})
    return {str(key): item for key, item in value.items()}


def _refuse_aliases(text: str) -> None:
    """Anchors and aliases are refused: a few lines of nested aliases would expand to gigabytes when copied."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (*name) are not accepted here", problem_mark=event.start_mark
            )


def line_of(text: str, key: str) -> int | None:
    """The line (from 1) where the dotted ``key`` is written in ``text``; its nearest written parent otherwise."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if isinstance(node, yaml.SequenceNode) and len(node.value) == 1:
        node = node.value[0]
    line = None
    for part in key.split(".") if key else []:
        child: yaml.Node | None = None
        key_node: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for candidate_key, candidate_value in node.value:
                if str(candidate_key.value) == part or _singular_plural(str(candidate_key.value), part):
                    key_node, child = candidate_key, candidate_value
                    break
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            child = node.value[int(part)]
        if child is None:
            break
        line = (key_node or child).start_mark.line + 1
        node = child
    return line


def _singular_plural(written: str, wanted: str) -> bool:
    """``trigger:`` written, ``triggers`` reported (the engine normalises the HA 2024.10 plural keys)."""
    return written + "s" == wanted or wanted + "s" == written


def with_lines(fields: dict[str, str], text: str) -> dict[str, str]:
    """Each reason prefixed with the line of its key in the text the user sent."""
    located: dict[str, str] = {}
    for key, reason in fields.items():
        line = line_of(text, key)
        located[key] = f"line {line}: {reason}" if line is not None and not reason.startswith("line ") else reason
    return located
