"""The ``gatehouse`` command line: run, check-config, db upgrade, scaffold, plus commands integrations add.

gatehouse run [--config DIR]                 start the hub; SIGINT/SIGTERM stop it cleanly
gatehouse check-config [--config DIR]        print every configuration problem, exit 1 if any
gatehouse db upgrade [--config DIR]          apply database migrations
gatehouse scaffold integration NAME [--dest DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from hub.plugins import PluginManager

_LOGGER = logging.getLogger("gatehouse")

DEFAULT_CONFIG_DIR = Path("config")


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

    scaffold = commands.add_parser("scaffold", help="write a skeleton to start from")
    scaffold_commands = scaffold.add_subparsers(dest="scaffold_kind", required=True, metavar="KIND")
    integration = scaffold_commands.add_parser("integration", help="a pip-installable integration with its tests")
    integration.add_argument("name", help="the integration's domain, e.g. turnstile")
    integration.add_argument("--dest", type=Path, default=Path("."), help="where to write it (default: here)")
    integration.set_defaults(func=_scaffold_integration)

    if plugins is not None:
        plugins.hook.cli_commands(subparsers=commands)
    return parser


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

    config_dir.mkdir(parents=True, exist_ok=True)
    hub = await start_hub(config_dir)
    # What start-up built lives as long as the hub: keep it out of every later full garbage collection,
    # which otherwise stalls the loop scanning it (the recorder bench showed 250+ ms pauses).
    gc.freeze()
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop_requested.set)
    http = getattr(hub, "http", None)
    if http is not None:
        _LOGGER.info("Gatehouse is running: dashboard on %s", http.url)
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


def _db_upgrade(args: argparse.Namespace) -> int:
    from hub.config import load_configuration
    from hub.store.database import default_url, upgrade

    config = load_configuration(args.config)
    url = (config.get("recorder") or {}).get("db_url") or default_url(args.config)
    applied = asyncio.run(upgrade(url))
    print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied else "database is up to date")
    return 0


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
