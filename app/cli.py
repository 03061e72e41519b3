"""`deskscribe` commands of this stage (registered by deskscribe.cli): tray, review, autostart."""

from __future__ import annotations

import click


@click.command("tray")
@click.option("--no-capture", is_flag=True,
              help="Do not start `deskscribe capture`; only show its state and control pausing.")
@click.option("--tray-wait", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds to wait for a system tray (at login the panel may start later) before opening "
                   "the review window instead.")
def tray_cmd(no_capture: bool, tray_wait: float) -> None:
    """Start the tray icon: it runs capture, pauses it, describes the backlog, and opens review, export and
    settings. Quit from its menu (or with SIGINT/SIGTERM); capture stops with it."""
    from deskscribe.lean import load_sqlite_utils_without_pandas

    load_sqlite_utils_without_pandas()  # a long-running process: ~70 MB less
    from deskscribe.app.main import run_tray

    raise SystemExit(run_tray(start_capture=not no_capture, tray_wait_s=tray_wait))


@click.command("review")
def review_cmd() -> None:
    """Open the review window (without the tray): browse episodes, look at frames, edit, accept or reject
    descriptions. Press F1 in the window for the keyboard shortcuts."""
    from deskscribe.lean import load_sqlite_utils_without_pandas

    load_sqlite_utils_without_pandas()  # a long-running process: ~70 MB less
    from deskscribe.app.main import run_review

    raise SystemExit(run_review())


@click.command("autostart")
@click.argument("switch", type=click.Choice(["on", "off", "status"]))
def autostart_cmd(switch: str) -> None:
    """Start the tray at login (on), stop doing so (off), or show whether it does (status).

    Writes or removes $XDG_CONFIG_HOME/autostart/deskscribe.desktop (default ~/.config/autostart).
    """
    from deskscribe.app import autostart

    if switch == "on":
        click.echo(f"wrote {autostart.enable()}; the tray starts at your next login")
    elif switch == "off":
        removed = autostart.disable()
        click.echo(f"removed {removed}" if removed else f"autostart was off (no {autostart.autostart_path()})")
    else:
        path = autostart.autostart_path()
        click.echo(f"on ({path})" if path.exists() else "off")


commands: list[click.Command] = [tray_cmd, review_cmd, autostart_cmd]
