"""Finds and loads integrations: the built-in ``integrations`` package and the ``gatehouse.integrations``
entry points go through the same door.

A module that fails to import is logged once with the reason and recorded in ``failures``; the others
load. Set ``GATEHOUSE_TRACE_HOOKS=1`` to log every hook call with its arguments and results.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from hub import hookspecs
from hub.integration import Integration

_LOGGER = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "gatehouse.integrations"
BUILTIN_PACKAGE = "integrations"
#: The core's own behaviour that goes through plugin hooks (Datasette's ``default_*`` plugins): always loaded.
DEFAULT_PLUGINS = ("hub.automation.core_triggers", "hub.automation.default_triggers")


class PluginManager:
    """Owns pluggy's manager and the descriptors of every loaded integration, keyed by domain."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager("gatehouse")
        self._pm.add_hookspecs(hookspecs)
        self.integrations: dict[str, Integration] = {}
        self.failures: dict[str, str] = {}
        if os.environ.get("GATEHOUSE_TRACE_HOOKS"):
            self._pm.trace.root.setwriter(lambda message: _LOGGER.info("hook: %s", " ".join(message.split())))
            self._pm.enable_tracing()

    @property
    def hook(self) -> Any:
        """Call hooks as ``plugins.hook.http_routes(hub=hub)``: each returns the list of non-None answers."""
        return self._pm.hook

    def load_all(self, *, builtin: bool = True, entry_points: bool = True) -> None:
        self.load_defaults()
        if builtin:
            self.load_builtin()
        if entry_points:
            self.load_entry_points()

    def load_defaults(self) -> None:
        """The core's default plugins (automation trigger types): the same door integrations use."""
        for name in DEFAULT_PLUGINS:
            if importlib.util.find_spec(name) is not None:
                self._load(name, lambda name=name: importlib.import_module(name))

    def load_builtin(self) -> None:
        package = importlib.import_module(BUILTIN_PACKAGE)
        for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
            name = f"{BUILTIN_PACKAGE}.{module_info.name}"
            self._load(name, lambda name=name: importlib.import_module(name))

    def load_entry_points(self) -> None:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            self._load(f"{entry_point.name} ({entry_point.value})", entry_point.load)

    def migration_folders(self) -> list[Path]:
        """Every loaded integration's Alembic version folders (the ``migration_folders`` hook), flattened."""
        return [Path(folder) for folders in self.hook.migration_folders() for folder in folders]

    def register(self, module: ModuleType | object, name: str | None = None) -> Integration | None:
        """Register an already imported plugin (tests and ``hub.testing`` use this for inline plugins)."""
        plugin_name = name or getattr(module, "__name__", None) or repr(module)
        if self._pm.is_registered(module) or self._pm.has_plugin(plugin_name):
            return None
        self._pm.register(module, name=plugin_name)
        return self._take_descriptor(module, plugin_name)

    def unregister(self, module: ModuleType | object) -> None:
        self._pm.unregister(module)
        self.integrations = {
            domain: descriptor
            for domain, descriptor in self.integrations.items()
            if descriptor.module != getattr(module, "__name__", None)
        }

    def _load(self, name: str, importer: Any) -> None:
        try:
            module = importer()
        except Exception as err:
            reason = f"{type(err).__name__}: {err}"
            self.failures[name] = reason
            _LOGGER.error("Integration %s could not be loaded: %s", name, reason)
            return
        try:
            self.register(module, getattr(module, "__name__", name))
        except Exception as err:
            reason = f"{type(err).__name__}: {err}"
            self.failures[name] = reason
            _LOGGER.error("Integration %s was refused: %s", name, reason)

    def _take_descriptor(self, module: ModuleType | object, plugin_name: str) -> Integration | None:
        implementation = getattr(module, "integration", None)
        if implementation is None:
            return None  # a plugin that only adds hooks (routes, commands) to other integrations
        descriptor = implementation()
        if not isinstance(descriptor, Integration):
            self._pm.unregister(module)
            raise TypeError(f"the integration hook of {plugin_name} returned {descriptor!r}, not an Integration")
        if descriptor.domain in self.integrations:
            self._pm.unregister(module)
            raise ValueError(
                f"domain {descriptor.domain!r} is already provided by {self.integrations[descriptor.domain].module}"
            )
        descriptor = _with_module(descriptor, getattr(module, "__name__", plugin_name))
        self.integrations[descriptor.domain] = descriptor
        return descriptor


def _with_module(descriptor: Integration, module: str) -> Integration:
    from dataclasses import replace

    return replace(descriptor, module=module)
