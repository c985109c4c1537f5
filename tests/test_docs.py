"""Documentation that cannot drift: every hook is documented with its exact signature (Datasette's habit)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hub import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOK_DOCS = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
# "## integration()" -> {"integration": "integration()"}
DOCUMENTED = {name: heading for heading, name in re.findall(r"^## ((\w+)\([^)]*\))$", HOOK_DOCS, re.MULTILINE)}
HOOKS = sorted(name for name, value in vars(hookspecs).items() if callable(value) and hasattr(value, "gatehouse_spec"))


def test_hooks_were_found() -> None:
    assert "integration" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook: str) -> None:
    parameters = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert DOCUMENTED.get(hook) == f"{hook}({parameters})", f"docs/plugin_hooks.md needs '## {hook}({parameters})'"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring(hook: str) -> None:
    assert inspect.getdoc(getattr(hookspecs, hook))


def test_no_documented_hook_is_missing_from_the_specs() -> None:
    assert sorted(DOCUMENTED) == HOOKS
