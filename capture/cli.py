"""`deskscribe capture | pause | resume | status` (registered by deskscribe.cli)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import click

from deskscribe.bounds import Seconds
from deskscribe.capture.cli_import import import_cmd
from deskscribe.capture.cli_task import task_group
from deskscribe.config import load as load_config


def open_db(readonly: bool = False):  # type: ignore[no-untyped-def]
    """The user's database; storage is imported here so that loading the command stays light."""
    from deskscribe.storage.db import open_user_db

    return open_user_db(readonly=readonly)


@click.command("capture")
@click.option("--duration", type=Seconds(), default=None, metavar="SECONDS",
              help="Stop by itself after this many seconds (for scripts and tests).")
def capture_cmd(duration: float | None) -> None:
    """Capture screenshots, the active window and input activity until Ctrl-C or SIGTERM.

    Logs go to logs/capture.log in the data folder and to stderr. SIGUSR1 pauses, SIGUSR2 resumes.
    """
    from deskscribe.lean import load_sqlite_utils_without_pandas

    load_sqlite_utils_without_pandas()  # a long-running process: ~70 MB less
    from deskscribe import paths
    from deskscribe.capture.runner import lock_data_folder, run_capture, setup_logging
    from deskscribe.capture.screen import open_mss

    cfg = load_config()
    paths.ensure_user_dir()
    open_db().conn.close()  # a read-only or damaged database: one clear line before anything starts
    lock = lock_data_folder(paths.runtime_dir() / "capture.lock")  # a second capture process: one clear line
    open_mss().close()  # no display → one clear line before any log output
    verbose = click.get_current_context().find_root().params.get("verbose", 0) > 0
    setup_logging(paths.logs_dir() / "capture.log", verbose=verbose)
    try:
        summary = run_capture(cfg, paths.db_path(), duration=duration)
    finally:
        lock.release()
    click.echo(f"stored {summary.frames} frames in {summary.episodes} episodes")


@click.command("pause")
@click.option("--minutes", type=Seconds("minutes"), default=None,
              help="Resume by itself after this many minutes (default: until `deskscribe resume`).")
def pause_cmd(minutes: float | None) -> None:
    """Pause capture (a running capture process stops taking frames within one interval)."""
    from deskscribe.storage import state

    db = open_db()
    state.pause(db, minutes)
    if minutes is None:
        click.echo("capture paused until `deskscribe resume`")
    else:
        until = time.strftime("%H:%M", time.localtime(time.time() + minutes * 60))
        click.echo(f"capture paused until {until}")


@click.command("resume")
def resume_cmd() -> None:
    """Resume capture after `deskscribe pause` (or SIGUSR1)."""
    from deskscribe.storage import state

    state.resume(open_db())
    click.echo("capture resumed")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def status_info() -> dict[str, Any]:
    """Capture state, pause switch and counts; an absent database reads as nothing captured yet."""
    from deskscribe import paths
    from deskscribe.storage import queries, state

    path = paths.db_path()
    if not path.exists():
        zero = dict.fromkeys(("frames_today", "episodes_today", "frames", "episodes", "unreviewed", "described",
                              "image_bytes", "db_bytes"), 0)
        return {"state": "stopped", "message": "nothing captured yet", "pid": None, "paused_until": None,
                "problems": {}, "database": str(path), **zero}
    db = open_db(readonly=True)
    try:
        info = state.capture_status(db)
        until = state.paused_until(db)
        counts = queries.stats(db, path)
    finally:
        db.conn.close()
    return {"state": info["state"], "message": info.get("message", ""), "pid": info.get("pid"),
            "problems": info["problems"],
            "paused_until": None if until is None else ("forever" if until == float("inf") else until),
            "database": str(path), **counts}


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status_cmd(as_json: bool) -> None:
    """Show whether capture runs, frames and episodes today and in all, and the database size."""
    info = status_info()
    if as_json:
        click.echo(json.dumps(info, sort_keys=True))
        return
    state_line = info["state"] + (f" (pid {info['pid']})" if info["pid"] and info["state"] != "stopped" else "")
    if info["message"]:
        state_line += f": {info['message']}"
    click.echo(f"capture   {state_line}")
    for reason in info["problems"].values():  # capture/health.py: what is wrong while it runs
        click.echo(f"problem   {reason}")
    until = info["paused_until"]
    if until is not None:
        when = ("until `deskscribe resume`" if until == "forever"
                else dt.datetime.fromtimestamp(until).strftime("until %H:%M"))
        click.echo(f"paused    {when}")
    click.echo(f"today     {info['frames_today']} frames, {info['episodes_today']} episodes")
    click.echo(f"total     {info['frames']} frames, {info['episodes']} episodes ({info['unreviewed']} unreviewed)")
    click.echo(f"images    {_size(info['image_bytes'])}")
    click.echo(f"database  {_size(info['db_bytes'])} at {info['database']}")


commands: list[click.Command] = [capture_cmd, pause_cmd, resume_cmd, status_cmd, import_cmd, task_group]
