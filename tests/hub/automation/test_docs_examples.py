"""The YAML examples of docs/automations.md are valid automations (the docs cannot drift from the engine)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DOC = (Path(__file__).resolve().parents[3] / "docs" / "automations.md").read_text(encoding="utf-8")
BLOCKS = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)]
_MINIMAL = {"id": "doc", "tenant": "acme", "triggers": [{"trigger": "event", "event_type": "x"}], "actions": []}


async def test_every_yaml_example_validates(hub, tenant, calls) -> None:
    for domain, service in (("lock", "open"), ("light", "toggle"), ("notify", "persistent_notification")):
        if not hub.services.has(domain, service):
            hub.services.register(domain, service, lambda call: None)
    checked = 0
    for block in BLOCKS:
        entries = block if isinstance(block, list) else [{**_MINIMAL, **block}]
        for entry in entries:
            if not entry.get("actions"):
                entry = {**entry, "actions": [{"event": "done"}]}
            hub.automations.validate(entry)
            checked += 1
    assert checked >= 8
