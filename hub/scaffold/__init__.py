"""``gatehouse scaffold integration NAME``: writes a pip-installable integration that works and is tested.

The skeleton is what an integrator imitates, so it is held to the core's own standard (typed, small modules,
a simulator of the device, a passing test). Templates live in ``template/``; every ``*.tmpl`` file is rendered
with jinja2, ``package/`` becomes ``gatehouse_<name>/`` and ``test_integration.py`` becomes ``test_<name>.py``.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).parent / "template"
TEMPLATE_SUFFIX = ".tmpl"

_DOMAIN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # short: it prefixes entity ids and health keys


def validate_domain(name: str) -> str:
    """A domain is an entity-id prefix and a Python module suffix: lower-case letters, digits, single underscores."""
    if not _DOMAIN.match(name) or "__" in name or name.endswith("_") or keyword.iskeyword(name):
        raise ValueError(
            f"invalid integration name {name!r}: use up to 32 lower-case letters, digits and single underscores, "
            "starting with a letter (for example: turnstile, acme_gate)"
        )
    return name


def scaffold_integration(name: str, dest: Path | str = ".") -> Path:
    """Write ``<dest>/gatehouse-<name>/`` and return its path; refuses a bad name or an existing target."""
    validate_domain(name)
    target = Path(dest) / f"gatehouse-{name}"
    if target.exists():
        raise FileExistsError(f"{target} already exists: remove it or choose another --dest")
    package = f"gatehouse_{name}"
    context = {
        "name": name,
        "package": package,
        "title": name.replace("_", " ").title(),
        "class_prefix": "".join(part.capitalize() for part in name.split("_")),
    }
    renames = {"package": package, f"test_integration.py{TEMPLATE_SUFFIX}": f"test_{name}.py{TEMPLATE_SUFFIX}"}
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # renders Python, TOML and Markdown, never HTML
    )
    for template in sorted(TEMPLATE_DIR.rglob(f"*{TEMPLATE_SUFFIX}")):
        relative = template.relative_to(TEMPLATE_DIR)
        output = target.joinpath(*(renames.get(part, part) for part in relative.parts)).with_suffix("")
        output.parent.mkdir(parents=True, exist_ok=True)
        text = environment.get_template(relative.as_posix()).render(context)
        output.write_text(text, encoding="utf-8")
    return target
