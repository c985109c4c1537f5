"""Tenants and users from the command line, as an administrator types them: real processes, real databases."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.auth import Role
from hub.testing import HubFactory, free_port

from .conftest import PASSWORD


def gatehouse(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def config_dir(tmp_path: Path, database_url: str) -> Path:
    """A configuration directory whose recorder points at the test database (SQLite or PostgreSQL)."""
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "configuration.yaml").write_text(f"recorder:\n  db_url: {database_url}\n", encoding="utf-8")
    return directory


async def test_an_administrator_creates_a_tenant_and_its_users_who_can_then_sign_in(
    config_dir: Path, database_url: str, hub_factory: HubFactory
) -> None:
    config = ("--config", str(config_dir))

    tenant = gatehouse("tenant", "create", "lakeside", "--name", "Lakeside School", *config)
    admin = gatehouse("user", "create", "root", "--platform-admin", "--password-stdin", *config, stdin=PASSWORD + "\n")
    officer = gatehouse(
        "user", "create", "Officer.Jones", "--tenant", "lakeside", "--role", "admin", "--name", "Sam Jones",
        "--password-stdin", *config, stdin=PASSWORD,
    )  # fmt: skip
    tenants = gatehouse("tenant", "list", *config)
    users = gatehouse("user", "list", *config)

    for result in (tenant, admin, officer, tenants, users):
        assert result.returncode == 0, result.stdout + result.stderr
    assert "created tenant lakeside (Lakeside School)" in tenant.stdout
    assert "created user root (no tenant, role owner, platform administrator)" in admin.stdout
    assert "created user officer.jones (tenant lakeside, role admin)" in officer.stdout
    assert "lakeside" in tenants.stdout and "Lakeside School" in tenants.stdout
    lines = users.stdout.splitlines()
    assert lines[0].split() == ["USERNAME", "TENANT", "ROLE", "FLAGS"]
    assert lines[1].split() == ["officer.jones", "lakeside", "admin", "-"]
    assert lines[2].split() == ["root", "-", "owner", "platform", "admin"]
    assert PASSWORD not in users.stdout + officer.stdout + officer.stderr

    hub = await hub_factory(config_dir=config_dir, database_url=database_url)
    caller = hub.auth.authenticate((await hub.auth.login("officer.jones", PASSWORD)).access_token)
    lakeside = hub.tenants.get_by_code("lakeside")
    assert lakeside is not None and (caller.tenant_id, caller.role) == (lakeside.id, Role.ADMIN)
    assert hub.auth.authenticate((await hub.auth.login("root", PASSWORD)).access_token).platform_admin
    created = await hub.auth.audit.entries(action="user.create")
    assert sorted(entry.target or "" for entry in created) == ["officer.jones", "root"]


async def test_unusable_passwords_and_accounts_are_refused_with_a_reason(config_dir: Path) -> None:
    config = ("--config", str(config_dir))
    assert gatehouse("tenant", "create", "lakeside", *config).returncode == 0
    assert (
        gatehouse(
            "user", "create", "amy", "--tenant", "lakeside", "--password-stdin", *config, stdin=PASSWORD
        ).returncode
        == 0
    )

    refusals = {
        "at least 8 characters": ("user", "create", "bob", "--tenant", "lakeside", "--password-stdin", *config),
        "not a terminal": ("user", "create", "bob", "--tenant", "lakeside", *config),
        "--tenant CODE": ("user", "create", "bob", "--password-stdin", *config),
        "no tenant with code 'hillside'": (
            "user",
            "create",
            "bob",
            "--tenant",
            "hillside",
            "--password-stdin",
            *config,
        ),
        "already taken": ("user", "create", "AMY", "--tenant", "lakeside", "--password-stdin", *config),
        "username": ("user", "create", "b", "--tenant", "lakeside", "--password-stdin", *config),
    }
    inputs = {"at least 8 characters": "short\n", "not a terminal": None}
    for reason, args in refusals.items():
        stdin = inputs.get(reason, PASSWORD)
        result = gatehouse(*args, stdin=stdin)
        assert result.returncode == 1, (reason, result.stdout, result.stderr)
        assert reason in result.stderr, (reason, result.stderr)
    empty = gatehouse("user", "create", "bob", "--tenant", "lakeside", "--password-stdin", *config, stdin="")
    assert empty.returncode == 1 and "at least 8 characters" in empty.stderr
    taken = gatehouse("tenant", "create", "lakeside", *config)
    assert taken.returncode == 1 and "already taken" in taken.stderr
    assert gatehouse("user", "list", *config).stdout.count("\n") == 2  # the header and amy


def test_gatehouse_run_without_users_tells_how_to_make_the_first_administrator(tmp_path: Path) -> None:
    port = free_port()
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "configuration.yaml").write_text(f"http:\n  port: {port}\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "--config", str(config_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        output = ""
        while time.monotonic() < deadline and "No users yet" not in output:
            line = process.stdout.readline()
            if not line:
                break
            output += line
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        output += rest
    finally:
        if process.poll() is None:
            process.kill()

    assert "WARNING" in output and "No users yet" in output, output
    assert "gatehouse user create admin --platform-admin" in output
    assert f"http://127.0.0.1:{port}/onboarding" in output
