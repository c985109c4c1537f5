"""The automation manager (``hub.automations``): loads automations.yaml, reloads it, saves and deletes entries.

Invalid automations are refused one by one (``errors``), logged once each, and the others load and run. A
reload keeps every automation whose configuration did not change running undisturbed, so editing one never
interrupts another. ``save`` and ``delete`` rewrite automations.yaml atomically and keep other tenants' entries.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml

from hub.automation.automation import Automation, entity_id_for
from hub.automation.const import AUTOMATIONS_FILE, EVENT_AUTOMATION_RELOADED
from hub.automation.errors import AutomationError, AutomationInvalid
from hub.automation.schema import AutomationConfig, automation_id_of, plain, validate_automation
from hub.automation.services import register_services
from hub.automation.trace import Trace
from hub.automation.triggers import TriggerPlatforms
from hub.config_yaml import ConfigError, ConfigProblem, load_yaml
from hub.core import Hub
from hub.ids import new_id

_LOGGER = logging.getLogger(__name__)


class AutomationManager:
    """Every automation of every tenant; reads and writes ``<config>/automations.yaml``."""

    def __init__(self, hub: Hub, path: Path | None = None) -> None:
        self.hub = hub
        self.path = path or hub.config_dir / AUTOMATIONS_FILE
        self.platforms = TriggerPlatforms()
        self.errors: list[AutomationError] = []
        self._automations: dict[str, Automation] = {}
        self._lock = asyncio.Lock()
        self._logged: set[AutomationError] = set()

    async def start(self) -> None:
        """Gather the trigger platforms, register the services, load automations.yaml."""
        self.platforms = TriggerPlatforms.from_plugins(self.hub)
        register_services(self.hub, self)
        self.hub.on_stop(self.stop)
        await self.reload()

    async def stop(self) -> None:
        for automation in list(self._automations.values()):
            await automation.stop()

    # ------------------------------------------------------------------------------------------ reading

    def all(self, tenant_id: str | None = None) -> list[Automation]:
        automations = self._automations.values()
        return [item for item in automations if tenant_id is None or item.tenant_id == tenant_id]

    def get(self, automation_id: str) -> Automation | None:
        return self._automations.get(automation_id)

    def by_entity_id(self, entity_id: str) -> Automation | None:
        return next((item for item in self._automations.values() if item.entity_id == entity_id), None)

    def traces(self, automation_id: str) -> list[Trace]:
        automation = self._automations.get(automation_id)
        return automation.traces() if automation is not None else []

    # ------------------------------------------------------------------------------------------ loading

    async def reload(self) -> list[AutomationError]:
        """Read automations.yaml again; returns the errors of the automations refused (the others run)."""
        async with self._lock:
            return await self._reload()

    async def _reload(self) -> list[AutomationError]:
        try:
            entries = await asyncio.to_thread(self._read)
        except ConfigError as error:
            self.errors = [AutomationError(None, "", str(problem)) for problem in error.problems]
            self._log(self.errors)
            return self.errors  # the automations loaded before keep running
        configs, errors = self._validate_all(entries)
        await self._apply(configs)
        # loaded, but a trigger could not attach (a webhook id already taken): listed with the refused ones
        errors += [automation.error for automation in self._automations.values() if automation.error is not None]
        self.errors = errors
        self._log(errors)
        self.hub.bus.fire(
            EVENT_AUTOMATION_RELOADED,
            {"loaded": sorted(self._automations), "errors": [error.as_dict() for error in errors]},
        )
        return errors

    def _read(self) -> list[Any]:
        if not self.path.is_file():
            return []
        data = load_yaml(self.path, self.hub.config_dir)
        if data is None:
            return []
        if not isinstance(data, list):
            raise ConfigError([_problem("the file must hold a list of automations")])
        # an !include may bring a list of automations where one is expected
        entries: list[Any] = []
        for item in data:
            entries.extend(item if isinstance(item, list) else [item])
        return entries

    def _validate_all(self, entries: list[Any]) -> tuple[list[AutomationConfig], list[AutomationError]]:
        configs: list[AutomationConfig] = []
        errors: list[AutomationError] = []
        seen_ids: set[str] = set()
        seen_entities: dict[str, str] = {}
        for index, entry in enumerate(entries):
            try:
                config = self.validate(entry)
            except AutomationError as error:
                reason = error.reason if error.automation_id is not None else f"entry {index + 1}: {error.reason}"
                errors.append(AutomationError(error.automation_id, error.key, reason, tenant_id=self._tenant_of(entry)))
                continue
            entity_id = entity_id_for(config.id)
            if config.id in seen_ids:
                reason = "another automation already has this id"
                errors.append(AutomationError(config.id, "id", reason, tenant_id=config.tenant_id))
                continue
            if entity_id in seen_entities:
                reason = f"gives {entity_id}, as {seen_entities[entity_id]} does"
                errors.append(AutomationError(config.id, "id", reason, tenant_id=config.tenant_id))
                continue
            seen_ids.add(config.id)
            seen_entities[entity_id] = config.id
            configs.append(config)
        return configs, errors

    def validate(self, entry: Any) -> AutomationConfig:
        """Validate one entry as written (``use_blueprint`` expanded first); raises AutomationError."""
        if isinstance(entry, Mapping) and "use_blueprint" in entry:
            expanded, blueprint_path = self._expand(entry)
            config = validate_automation(self.hub, self.platforms, expanded, blueprint_path=blueprint_path)
            return dataclasses.replace(config, raw=plain(entry))  # ``config`` stays what was written
        return validate_automation(self.hub, self.platforms, entry)

    def _tenant_of(self, entry: Any) -> str | None:
        code = entry.get("tenant") if isinstance(entry, Mapping) else None
        if not isinstance(code, str):
            return None
        tenant = self.hub.tenants.get_by_code(code) or self.hub.tenants.get(code)
        return tenant.id if tenant is not None else None

    def _expand(self, entry: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        automation_id = automation_id_of(entry)
        use = entry.get("use_blueprint")
        if not isinstance(use, Mapping) or not isinstance(use.get("path"), str):
            raise AutomationError(automation_id, "use_blueprint.path", "required (the blueprint's path)")
        try:
            from hub.automation import blueprints
        except ImportError:
            raise AutomationError(automation_id, "use_blueprint", "blueprints are not available") from None
        try:
            expanded = blueprints.expand(plain(entry), self.hub)
        except AutomationInvalid as error:
            first = error.errors[0]
            raise AutomationError(automation_id, first.key, first.reason) from None
        except AutomationError as error:
            raise AutomationError(automation_id, error.key, error.reason) from None
        except (vol.Invalid, ValueError, LookupError, TypeError, ConfigError) as error:
            raise AutomationError(automation_id, "use_blueprint", str(error)) from None
        expanded = dict(expanded)
        expanded.pop("use_blueprint", None)
        for key in ("id", "tenant", "alias", "description", "enabled", "mode", "max"):
            if key in entry:
                expanded[key] = plain(entry[key])
        return expanded, str(use["path"])

    async def _apply(self, configs: list[AutomationConfig]) -> None:
        """Replace what changed, keep what did not (its runs continue), remove what is gone."""
        old = self._automations
        new: dict[str, Automation] = {}
        for config in configs:
            current = old.get(config.id)
            unchanged = current is not None and (current.config, current.validated.expanded) == (
                config.raw,
                config.expanded,
            )
            if current is not None and unchanged and current.validated.tenant_id == config.tenant_id:
                new[config.id] = current
                continue
            if current is not None:
                await current.stop()
            traces = current._traces if current is not None else None
            last = current.last_triggered if current is not None else None
            new[config.id] = Automation(self.hub, self.platforms, config, traces, last)
        for automation_id, automation in old.items():
            if automation_id not in new:
                await automation.stop(remove_state=True)
            elif new[automation_id] is not automation and automation.entity_id != new[automation_id].entity_id:
                self.hub.states.remove(automation.entity_id)
        self._automations = new
        for automation in new.values():
            if automation not in old.values():
                automation.start()

    def _log(self, errors: list[AutomationError]) -> None:
        for error in errors:
            if error not in self._logged:
                _LOGGER.error("Automation refused: %s", error)
        self._logged = set(errors)

    # ------------------------------------------------------------------------------------------ writing

    async def save(self, config: dict[str, Any], *, tenant_id: str) -> Automation:
        """Create or replace the tenant's automation ``config['id']`` (generated when absent) and reload.

        Raises AutomationInvalid (with ``errors``) when it is invalid or the id is another tenant's.
        """
        tenant = self.hub.tenants.get(tenant_id)
        if tenant is None:
            raise AutomationInvalid([AutomationError(None, "tenant", f"unknown tenant {tenant_id!r}")])
        entry = plain(dict(config))
        entry["id"] = str(entry.get("id") or new_id())
        entry["tenant"] = tenant.code
        entry = {"id": entry.pop("id"), **entry}
        async with self._lock:
            entries = await asyncio.to_thread(self._read_plain)
            owner = self._owner(entries, entry["id"])
            if owner is not None and owner != tenant_id:
                raise AutomationInvalid([AutomationError(entry["id"], "id", "another automation already has this id")])
            try:
                self.validate(entry)
            except AutomationError as error:
                raise AutomationInvalid([error]) from None
            replaced = False
            for index, existing in enumerate(entries):
                if isinstance(existing, Mapping) and automation_id_of(existing) == entry["id"]:
                    entries[index] = entry
                    replaced = True
            if not replaced:
                entries.append(entry)
            await asyncio.to_thread(self._write, entries)
            await self._reload()
        automation = self._automations.get(entry["id"])
        if automation is None:
            refused = next((item for item in self.errors if item.automation_id == entry["id"]), None)
            raise AutomationInvalid([refused or AutomationError(entry["id"], "", "could not be loaded")])
        return automation

    async def delete(self, automation_id: str) -> None:
        """Remove the automation from automations.yaml and stop it; KeyError when there is none."""
        async with self._lock:
            entries = await asyncio.to_thread(self._read_plain)
            kept = [
                item for item in entries if not (isinstance(item, Mapping) and automation_id_of(item) == automation_id)
            ]
            if len(kept) == len(entries):
                raise KeyError(automation_id)
            await asyncio.to_thread(self._write, kept)
            await self._reload()

    async def set_enabled(self, automation_id: str, enabled: bool) -> None:
        """Turn an automation on or off, persisted as ``enabled`` in automations.yaml."""
        async with self._lock:
            entries = await asyncio.to_thread(self._read_plain)
            found = False
            for entry in entries:
                if isinstance(entry, dict) and automation_id_of(entry) == automation_id:
                    found = True
                    if enabled:
                        entry.pop("enabled", None)
                    else:
                        entry["enabled"] = False
            if not found:
                raise KeyError(automation_id)
            await asyncio.to_thread(self._write, entries)
            await self._reload()

    async def trigger(
        self, automation_id: str, variables: dict[str, Any] | None = None, *, skip_condition: bool = True
    ) -> Trace:
        """Run the automation now (``trigger.platform`` is ``manual``); returns the run's trace, still running
        perhaps. Raises KeyError for an unknown id, AutomationError when the mode refuses another run."""
        automation = self._automations.get(automation_id)
        if automation is None:
            raise KeyError(automation_id)
        trigger = {"platform": "manual", "id": "manual", "idx": "manual", "alias": None, "description": "manual"}
        run_variables = {"trigger": trigger, **(variables or {})}
        trace = automation.start_run(run_variables, None, skip_condition=skip_condition)
        if trace is None:
            raise AutomationError(automation_id, "mode", f"already running (mode {automation.mode})")
        return trace

    def _read_plain(self) -> list[Any]:
        return [plain(item) for item in self._read()]

    def _owner(self, entries: list[Any], automation_id: str) -> str | None:
        for entry in entries:
            if isinstance(entry, Mapping) and automation_id_of(entry) == automation_id:
                code = str(entry.get("tenant", ""))
                tenant = self.hub.tenants.get_by_code(code) or self.hub.tenants.get(code)
                return tenant.id if tenant is not None else ""
        return None

    def _write(self, entries: list[Any]) -> None:
        """Write atomically: a temporary file in the same folder, then a rename over automations.yaml."""
        text = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, default_flow_style=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".automations.", suffix=".yaml", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _problem(message: str) -> ConfigProblem:
    return ConfigProblem(AUTOMATIONS_FILE, None, "", message)
