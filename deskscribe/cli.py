"""The ``deskscribe`` command line: assembles the stages' commands, plus the root's own (paths, config).

Each stage contributes its commands through ``<stage>/cli.py``'s ``commands`` list; heavy imports happen
inside the commands so ``deskscribe --help`` stays fast.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from deskscribe import __version__
from deskscribe.config import load as load_config
from deskscribe.errors import DeskscribeError


class Group(click.Group):
    """Turns known problems into one ``Error: …`` line and exit code 1, wherever they are raised."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DeskscribeError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deskscribe")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Capture your own desktop activity and turn it into training data, locally.

    Data lives in the folder named by DESKSCRIBE_HOME (default: your user data folder);
    `deskscribe paths` prints where.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command("paths")
def paths_cmd() -> None:
    """Print where deskscribe keeps its database, config, models and logs."""
    from deskscribe import paths

    for name, path in [
        ("data folder", paths.user_dir()),
        ("database", paths.db_path()),
        ("config", paths.config_path()),
        ("models", paths.models_dir()),
        ("logs", paths.logs_dir()),
    ]:
        click.echo(f"{name:12} {path}")


@main.group("config")
def config_group() -> None:
    """Show or check the settings (config.toml in the data folder)."""


@config_group.command("show")
def config_show() -> None:
    """Print the effective settings (defaults merged with config.toml) as TOML."""
    import tomli_w

    from deskscribe import config

    click.echo(tomli_w.dumps(config.to_dict(load_config())))


@config_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def config_check(path: Path | None) -> None:
    """Validate config.toml (or PATH); prints 'ok' or the first problem."""
    from deskscribe import config

    config.load(path)
    click.echo("ok")


@config_group.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing config.toml.")
def config_init(force: bool) -> None:
    """Write config.toml with every setting at its default, to edit by hand."""
    from deskscribe import config, paths

    path = paths.config_path()
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    paths.ensure_user_dir()
    click.echo(f"wrote {config.save(config.Config(), path)}")


def _register() -> None:
    from deskscribe.app import cli as app_cli
    from deskscribe.capture import cli as capture_cli
    from deskscribe.export import cli as export_cli
    from deskscribe.models import cli as models_cli

    for module in (capture_cli, models_cli, export_cli, app_cli):
        for command in module.commands:
            main.add_command(command)


_register()


def tray_main() -> None:
    """Entry point of the ``deskscribe-tray`` GUI script."""
    sys.argv = [sys.argv[0], "tray", *sys.argv[1:]]
    main()
