"""The ``gatehouse`` command line: run, check-config, db upgrade, scaffold, plus commands integrations add.

gatehouse run [--config DIR]                 start the hub; SIGINT/SIGTERM stop it cleanly
gatehouse check-config [--config DIR]        print every configuration problem, exit 1 if any
gatehouse db upgrade [--config DIR]          apply database migrations
gatehouse backup [--config DIR] [--output DIR] [--keep N]   back up the database now
gatehouse tenant create CODE [--name NAME]   add a tenant; gatehouse tenant list
gatehouse user create USERNAME [--tenant CODE] [--role ROLE] [--platform-admin] [--name NAME] [--password-stdin]
gatehouse user list                          every user, their tenant and role
gatehouse scaffold integration NAME [--dest DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.plugins import PluginManager
from hub.store.backup import backup_commands

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger("gatehouse")

DEFAULT_CONFIG_DIR = Path("config")


def simulate_devices(subparsers: argparse._SubParsersAction[Any]) -> argparse._SubParsersAction[Any]:
    """The sub-commands of the shared ``gatehouse simulate``: an integration adds its simulator there.

    Whichever integration's ``cli_commands`` runs first creates ``simulate``; the others find it.
    """
    simulate = subparsers.choices.get("simulate")
    if simulate is None:
        simulate = subparsers.add_parser("simulate", help="simulated devices that connect to a running hub")
        return simulate.add_subparsers(dest="simulate_device", required=True, metavar="DEVICE")
    for action in simulate._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return simulate.add_subparsers(dest="simulate_device", required=True, metavar="DEVICE")


def build_parser(plugins: PluginManager | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gatehouse", description="An open hub for access-control and video devices.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="start the hub")
    _config_option(run)
    run.set_defaults(func=_run)

    check = commands.add_parser("check-config", help="validate configuration.yaml and exit")
    _config_option(check)
    check.set_defaults(func=_check_config)

    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = database_commands.add_parser("upgrade", help="apply schema migrations up to the latest")
    _config_option(upgrade)
    upgrade.set_defaults(func=_db_upgrade)
    backup_commands(commands)

    _add_account_commands(commands)

    scaffold = commands.add_parser("scaffold", help="write a skeleton to start from")
    scaffold_commands = scaffold.add_subparsers(dest="scaffold_kind", required=True, metavar="KIND")
    integration = scaffold_commands.add_parser("integration", help="a pip-installable integration with its tests")
    integration.add_argument("name", help="the integration's domain, e.g. turnstile")
    integration.add_argument("--dest", type=Path, default=Path("."), help="where to write it (default: here)")
    integration.set_defaults(func=_scaffold_integration)

    if plugins is not None:
        plugins.hook.cli_commands(subparsers=commands)
    return parser


def _add_account_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tenant = commands.add_parser("tenant", help="tenants: the companies or sites that own devices")
    tenant_commands = tenant.add_subparsers(dest="tenant_command", required=True, metavar="ACTION")
    tenant_create = tenant_commands.add_parser("create", help="add a tenant")
    tenant_create.add_argument("code", help="short unique name: lower-case letters, digits, '-' or '_'")
    tenant_create.add_argument("--name", help="display name (default: the code)")
    _config_option(tenant_create)
    tenant_create.set_defaults(func=_tenant_create)
    tenant_list = tenant_commands.add_parser("list", help="list the tenants")
    _config_option(tenant_list)
    tenant_list.set_defaults(func=_tenant_list)

    user = commands.add_parser("user", help="users who sign in to the dashboard and the API")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    user_create = user_commands.add_parser("create", help="add a user (asks for the password twice)")
    user_create.add_argument("username", help="3-64 characters: letters, digits, '.', '_', '@', '-'")
    user_create.add_argument("--tenant", metavar="CODE", help="the tenant the user belongs to")
    user_create.add_argument(
        "--role",
        choices=["viewer", "operator", "admin", "owner"],
        help="role in the tenant (default: viewer; owner for a platform administrator)",
    )
    user_create.add_argument("--platform-admin", action="store_true", help="may see and manage every tenant")
    user_create.add_argument("--name", help="display name (default: the username)")
    user_create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _config_option(user_create)
    user_create.set_defaults(func=_user_create)
    user_list = user_commands.add_parser("list", help="list the users")
    _config_option(user_list)
    user_list.set_defaults(func=_user_list)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", type=Path, default=DEFAULT_CONFIG_DIR, help="configuration directory (default: ./config)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    plugins = PluginManager()
    plugins.load_all()
    args = build_parser(plugins).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return int(args.func(args) or 0)


# -------------------------------------------------------------------------------------------------- commands


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args.config))


async def _serve(config_dir: Path) -> int:
    from hub.bootstrap import start_hub
    from hub.memory import freeze_startup_objects, tune_garbage_collector

    tune_garbage_collector()
    config_dir.mkdir(parents=True, exist_ok=True)
    hub = await start_hub(config_dir)
    freeze_startup_objects()
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop_requested.set)
    http = getattr(hub, "http", None)
    if http is not None:
        _LOGGER.info("Gatehouse is running: dashboard on %s", http.url)
    if not hub.auth.has_users:
        onboarding = f"{http.url}/onboarding" if http is not None else "the dashboard's /onboarding page"
        _LOGGER.warning(
            "No users yet: create the first administrator with `gatehouse user create admin --platform-admin "
            "--config %s`, or open %s",
            config_dir,
            onboarding,
        )
    await stop_requested.wait()
    _LOGGER.info("Stopping: flushing pending writes")
    await hub.stop()
    _LOGGER.info("Stopped")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    from hub.config import check_config

    plugins = PluginManager()
    plugins.load_all()
    problems = check_config(args.config, plugins.integrations)
    for name, reason in plugins.failures.items():
        print(f"integration {name} could not be loaded: {reason}")
    for problem in problems:
        print(problem)
    if problems or plugins.failures:
        return 1
    print(f"{args.config / 'configuration.yaml'}: configuration is valid")
    return 0


def _database_url(config_dir: Path) -> str:
    from hub.config import load_configuration
    from hub.store.database import default_url

    config = load_configuration(config_dir)
    return str((config.get("recorder") or {}).get("db_url") or default_url(config_dir))


def _migration_folders() -> list[Path]:
    """The integrations' migrations too: a database they migrated has their revisions in alembic_version."""
    plugins = PluginManager()
    plugins.load_all()
    return plugins.migration_folders()


def _db_upgrade(args: argparse.Namespace) -> int:
    from hub.store.database import upgrade

    applied = asyncio.run(upgrade(_database_url(args.config), _migration_folders()))
    print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "database is up to date")
    return 0


@asynccontextmanager
async def _accounts(config_dir: Path) -> AsyncIterator[Hub]:
    """A bare hub with only the database (migrated), the tenants and auth: what account commands need."""
    from hub.auth.manager import AuthManager
    from hub.core import Hub
    from hub.store.database import Database
    from hub.tenants import TenantRegistry

    hub = Hub(config_dir)
    database = Database(_database_url(config_dir), migration_folders=_migration_folders())
    await database.start()
    try:
        hub.database = database
        hub.tenants = TenantRegistry(database)
        await hub.tenants.load()
        hub.auth = AuthManager(hub, database)
        await hub.auth.load()
        hub.on_stop(hub.auth.stop)
        yield hub
    finally:
        await hub.stop()
        await database.close()


def _tenant_create(args: argparse.Namespace) -> int:
    from hub.tenants import TenantCodeTaken

    async def create() -> int:
        async with _accounts(args.config) as hub:
            try:
                tenant = await hub.tenants.create(args.code, args.name)
            except (ValueError, TenantCodeTaken) as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
            await hub.auth.audit.record(
                None, "tenant.create", target=tenant.code, tenant_id=tenant.id, details={"via": "cli"}
            )
        print(f"created tenant {tenant.code} ({tenant.name}), id {tenant.id}")
        return 0

    return asyncio.run(create())


def _tenant_list(args: argparse.Namespace) -> int:
    async def show() -> int:
        async with _accounts(args.config) as hub:
            rows = [(t.code, t.name, str(len(hub.auth.users(t.id))), t.id) for t in hub.tenants.all()]
        _print_table(("CODE", "NAME", "USERS", "ID"), rows)
        return 0

    return asyncio.run(show())


def _read_password(from_stdin: bool) -> str | None:
    """The new password from standard input, or typed twice at a terminal; None (with a message) if unusable."""
    import getpass

    from hub.auth.passwords import MIN_PASSWORD_LENGTH

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return None
    else:
        print("error: standard input is not a terminal: pass the password with --password-stdin", file=sys.stderr)
        return None
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"error: the password must have at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return None
    return password


def _user_create(args: argparse.Namespace) -> int:
    from hub.auth.errors import InvalidUserInput, UsernameTaken

    if args.tenant is None and not args.platform_admin:
        print("error: give the user's tenant with --tenant CODE, or make them --platform-admin", file=sys.stderr)
        return 1
    password = _read_password(args.password_stdin)
    if password is None:
        return 1
    role = args.role or ("owner" if args.platform_admin else "viewer")

    async def create() -> int:
        async with _accounts(args.config) as hub:
            tenant = hub.tenants.get_by_code(args.tenant) if args.tenant is not None else None
            if args.tenant is not None and tenant is None:
                print(f"error: no tenant with code {args.tenant!r} (see `gatehouse tenant list`)", file=sys.stderr)
                return 1
            tenant_id = tenant.id if tenant is not None else None
            try:
                user = await hub.auth.create_user(
                    args.username,
                    password,
                    tenant_id=tenant_id,
                    role=role,
                    name=args.name,
                    platform_admin=args.platform_admin,
                )
            except (InvalidUserInput, UsernameTaken) as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
            await hub.auth.audit.record(
                None, "user.create", target=user.username, tenant_id=tenant_id, details={"via": "cli", "role": role}
            )
        where = f"tenant {tenant.code}" if tenant is not None else "no tenant"
        kind = ", platform administrator" if user.platform_admin else ""
        print(f"created user {user.username} ({where}, role {user.role}{kind})")
        return 0

    return asyncio.run(create())


def _user_list(args: argparse.Namespace) -> int:
    async def show() -> int:
        async with _accounts(args.config) as hub:
            rows = []
            for user in hub.auth.users():
                tenant = hub.tenants.get(user.tenant_id) if user.tenant_id is not None else None
                flags = ", ".join(
                    flag for flag, on in (("platform admin", user.platform_admin), ("disabled", user.disabled)) if on
                )
                rows.append((user.username, tenant.code if tenant is not None else "-", user.role.value, flags or "-"))
        _print_table(("USERNAME", "TENANT", "ROLE", "FLAGS"), rows)
        return 0

    return asyncio.run(show())


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _scaffold_integration(args: argparse.Namespace) -> int:
    from hub.scaffold import scaffold_integration

    try:
        target = scaffold_integration(args.name, args.dest)
    except (ValueError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {target}")
    print(f"next: pip install -e {target} && pytest {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
