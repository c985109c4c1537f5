"""Finding and loading integrations: built-in package and entry points, isolated failures."""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path

import pytest

from hub.hookspecs import hookimpl
from hub.plugins import ENTRY_POINT_GROUP, PluginManager


def install_distribution(site: Path, module: str, source: str, entry_name: str | None = None) -> None:
    """Lay out a module and its dist-info exactly as pip would, so importlib.metadata finds the entry point."""
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    dist_info = site / f"{module}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n", encoding="utf-8")
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n{entry_name or module} = {module}\n", encoding="utf-8"
    )


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith("acme_")]:
        del sys.modules[name]


def test_builtin_integrations_are_found() -> None:
    plugins = PluginManager()
    plugins.load_builtin()

    assert "demo" in plugins.integrations
    assert plugins.integrations["demo"].module == "integrations.demo"
    assert plugins.failures == {}


def test_third_party_integration_is_found_through_its_entry_point(site: Path) -> None:
    install_distribution(
        site,
        "acme_turnstile",
        """
        from hub.hookspecs import hookimpl
        from hub.integration import Integration

        @hookimpl
        def integration():
            return Integration(domain="acme_turnstile", name="Acme turnstile", version="1.0")
        """,
    )
    plugins = PluginManager()
    plugins.load_entry_points()

    assert plugins.integrations["acme_turnstile"].name == "Acme turnstile"
    assert plugins.integrations["acme_turnstile"].module == "acme_turnstile"


def test_an_integration_that_fails_to_import_is_isolated(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    install_distribution(site, "acme_broken", "raise ImportError('needs libacme.so')\n")
    install_distribution(
        site,
        "acme_fine",
        """
        from hub.hookspecs import hookimpl
        from hub.integration import Integration

        @hookimpl
        def integration():
            return Integration(domain="acme_fine", name="Fine")
        """,
    )
    plugins = PluginManager()
    with caplog.at_level(logging.ERROR):
        plugins.load_entry_points()

    assert "acme_fine" in plugins.integrations
    assert plugins.failures == {"acme_broken (acme_broken)": "ImportError: needs libacme.so"}
    assert caplog.text.count("needs libacme.so") == 1


def test_two_integrations_may_not_share_a_domain(site: Path) -> None:
    source = """
        from hub.hookspecs import hookimpl
        from hub.integration import Integration

        @hookimpl
        def integration():
            return Integration(domain="demo", name="Impostor")
        """
    install_distribution(site, "acme_impostor", source)
    plugins = PluginManager()
    plugins.load_all()

    assert plugins.integrations["demo"].module == "integrations.demo"
    assert "already provided by integrations.demo" in plugins.failures["acme_impostor (acme_impostor)"]


def test_the_integration_hook_must_return_a_descriptor() -> None:
    class Confused:
        __name__ = "confused"

        @hookimpl
        def integration(self) -> object:
            return {"domain": "confused"}

    plugins = PluginManager()
    with pytest.raises(TypeError, match="not an Integration"):
        plugins.register(Confused())
    assert "confused" not in plugins.integrations


def test_a_plugin_may_only_add_hooks_without_being_an_integration() -> None:
    class RoutesOnly:
        @hookimpl
        def http_routes(self, hub: object) -> list[object]:
            return []

    plugins = PluginManager()
    assert plugins.register(RoutesOnly(), name="routes-only") is None
    assert plugins.hook.http_routes(hub=None) == [[]]


def test_hook_calls_can_be_traced(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("GATEHOUSE_TRACE_HOOKS", "1")

    class Routes:
        @hookimpl
        def http_routes(self, hub: object) -> list[object]:
            return []

    plugins = PluginManager()
    plugins.register(Routes(), name="routes")
    with caplog.at_level(logging.INFO, logger="hub.plugins"):
        plugins.hook.http_routes(hub=None)

    assert "hook: http_routes" in caplog.text
