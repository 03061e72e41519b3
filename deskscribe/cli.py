"""The ``deskscribe`` command line: assembles the stages' commands, plus the root's own (paths, config).

Each stage contributes its commands through ``<stage>/cli.py``'s ``commands`` list; heavy imports happen
inside the commands so ``deskscribe --help`` stays fast.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from deskscribe import __version__, bounds
from deskscribe.config import load as load_config
from deskscribe.errors import DeskscribeError


class Group(click.Group):
    """Turns known problems into one ``Error: …`` line and exit code 1, wherever they are raised."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DeskscribeError as exc:
            raise click.ClickException(str(exc)) from exc
        except (sqlite3.Error, OSError) as exc:
            known = _known(exc)
            if known is None:
                raise  # a bug: its traceback
            raise click.ClickException(str(known)) from exc


def _known(exc: BaseException) -> DeskscribeError | None:
    """The environment problem behind an error raised where no code expected it (a page found damaged
    mid-command, the disk filling up), or None for a bug."""
    from deskscribe import paths
    from deskscribe.storage import space
    from deskscribe.storage.db import translate

    if isinstance(exc, sqlite3.Error):
        known = translate(exc, paths.db_path())
        return known if isinstance(known, DeskscribeError) else None
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return space.full_disk_error(exc.filename or paths.user_dir())
    return None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deskscribe")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Capture your own desktop activity and turn it into training data, locally.

    Data lives in the folder named by DESKSCRIBE_HOME (default: your user data folder);
    `deskscribe paths` prints where.
    """
    from deskscribe import paths

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    paths.private_umask()  # everything any command writes (data folder, exports) is private to this user


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
    """Validate config.toml (or PATH) and the model files it names; prints 'ok' or the first problem."""
    from deskscribe import config, paths
    from deskscribe.models.manager import check_settings

    cfg = config.load(path)
    problems = check_settings(cfg)
    if problems:
        raise click.ClickException(f"{path or paths.config_path()}: {problems[0]}")
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


@main.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as one JSON object.")
def doctor_cmd(as_json: bool) -> None:
    """Check the setup: data folder, database, display and input, accessibility bus, models, OCR data.

    One line per check: ok, or PROBLEM with what to do. Exit code 0 when every check is ok, else 1.
    Changes nothing (the database is opened read-only).
    """
    import json

    from deskscribe import doctor

    checks = doctor.run_checks()
    if as_json:
        click.echo(json.dumps(doctor.as_json(checks), indent=2))
    else:
        for check in checks:
            click.echo(check.line())
    if not all(c.ok for c in checks):
        sys.exit(1)


@main.command("forget")
@click.option("--last", help="Forget the last span: 5m, 15m, 2h, 1d.")
@click.option("--since", help="Forget everything captured since this local time: '2026-12-02 14:30' or 14:30.")
@click.option("--episode", type=bounds.ID, help="Forget one episode (its id, as `deskscribe status` shows).")
def forget_cmd(last: str | None, since: str | None, episode: int | None) -> None:
    """Delete captured frames, images, events, captions, descriptions and search entries for good.

    The database file and its WAL are scrubbed too (secure delete, index merge, WAL checkpoint), even
    while capture or the review window are running.
    """
    from deskscribe import paths
    from deskscribe.storage import forget, space
    from deskscribe.storage.db import open_user_db

    with space.room_to_delete(paths.user_dir()) as full:  # on a full disk the open itself needs the reserve
        db = open_user_db()
        try:
            what, done = forget.forget(db, last=last, since=since, episode=episode)
        finally:
            db.conn.close()
    note = "" if done.wal_truncated else " (a reader kept the WAL busy: it is truncated at the next forget)"
    if full:
        note += "; the disk was full: the room freed inside the database is reused by new frames"
    click.echo(f"forgot {what}: {done}{note}")


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
