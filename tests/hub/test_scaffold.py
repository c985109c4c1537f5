"""``gatehouse scaffold integration``: the skeleton is valid, its own tests pass, and pip installs it so the hub
finds it through its entry point (story 3, the integrator)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.scaffold import scaffold_integration, validate_domain

EXPECTED_FILES = (
    "pyproject.toml",
    "README.md",
    "gatehouse_turnstile/__init__.py",
    "gatehouse_turnstile/const.py",
    "gatehouse_turnstile/client.py",
    "gatehouse_turnstile/entity.py",
    "gatehouse_turnstile/simulator.py",
    "tests/test_turnstile.py",
)


def run(*args: str, cwd: Path | None = None, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False)


def can_build_wheels_offline() -> bool:
    """pip needs setuptools' bdist_wheel to build without isolation: setuptools >= 70.1, or the wheel package."""
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture
def turnstile(tmp_path: Path) -> Path:
    return scaffold_integration("turnstile", tmp_path)


def test_writes_a_distribution_with_every_file(turnstile: Path, tmp_path: Path) -> None:
    assert turnstile == tmp_path / "gatehouse-turnstile"
    for name in EXPECTED_FILES:
        assert (turnstile / name).is_file(), name
    assert not list(turnstile.rglob("*.tmpl"))
    pyproject = (turnstile / "pyproject.toml").read_text()
    assert 'name = "gatehouse-turnstile"' in pyproject
    assert '[project.entry-points."gatehouse.integrations"]\nturnstile = "gatehouse_turnstile"' in pyproject
    assert "docs/plugin_hooks.md" in (turnstile / "README.md").read_text()


def test_generated_code_compiles_and_names_are_filled_in(tmp_path: Path) -> None:
    target = scaffold_integration("acme_gate", tmp_path)

    for path in target.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")
        assert "{{" not in path.read_text(), path
    const = (target / "gatehouse_acme_gate" / "const.py").read_text()
    assert 'DOMAIN: Final = "acme_gate"' in const and 'MANUFACTURER: Final = "Acme Gate"' in const
    assert "class AcmeGateLock" in (target / "gatehouse_acme_gate" / "entity.py").read_text()
    assert (target / "tests" / "test_acme_gate.py").is_file()


def test_generated_code_passes_ruff(turnstile: Path) -> None:
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e .[dev])")
    result = run(sys.executable, "-m", "ruff", "check", "--no-cache", ".", cwd=turnstile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_tests_pass(turnstile: Path) -> None:
    result = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(turnstile / "tests"),
                 cwd=turnstile, pythonpath=turnstile)  # fmt: skip

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_pip_installs_it_and_the_hub_finds_its_entry_point(turnstile: Path, tmp_path: Path) -> None:
    if not can_build_wheels_offline():
        pytest.skip("building offline needs setuptools >= 70.1 (or wheel) in the environment")
    site = tmp_path / "site"
    installed = run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(turnstile))  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr

    probe = (
        "from hub.plugins import PluginManager\n"
        "plugins = PluginManager()\n"
        "plugins.load_entry_points()\n"
        "print(plugins.integrations['turnstile'].module, plugins.integrations['turnstile'].name)\n"
        "print(sorted(plugins.failures))\n"
    )
    found = run(sys.executable, "-c", probe, cwd=tmp_path, pythonpath=site)

    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == ["gatehouse_turnstile Turnstile", "[]"]


@pytest.mark.parametrize("name", ["Turnstile", "turn-stile", "9gate", "_gate", "gate_", "tur__nstile", "", "class"])
def test_bad_names_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid integration name"):
        scaffold_integration(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_valid_names_are_accepted() -> None:
    assert validate_domain("turnstile") == "turnstile"
    assert validate_domain("acme_gate2") == "acme_gate2"


def test_existing_target_is_refused(turnstile: Path, tmp_path: Path) -> None:
    (turnstile / "README.md").write_text("my notes")

    with pytest.raises(FileExistsError, match="gatehouse-turnstile"):
        scaffold_integration("turnstile", tmp_path)
    assert (turnstile / "README.md").read_text() == "my notes"


def test_command_line_writes_the_skeleton(tmp_path: Path) -> None:
    result = run(sys.executable, "-m", "hub", "scaffold", "integration", "turnstile", "--dest", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "gatehouse-turnstile" in result.stdout
    for name in EXPECTED_FILES:
        assert (tmp_path / "gatehouse-turnstile" / name).is_file(), name

    again = run(sys.executable, "-m", "hub", "scaffold", "integration", "turnstile", "--dest", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr
    bad = run(sys.executable, "-m", "hub", "scaffold", "integration", "Bad-Name", "--dest", str(tmp_path))
    assert bad.returncode == 2 and "invalid integration name" in bad.stderr
