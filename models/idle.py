"""Describe the backlog while the person is away: the one idle policy, and scheduler glue for it.

The decision (:func:`should_run`) is a pure function of when the person was last seen, the backlog and the
settings. The tray asks it on every refresh, with "last seen" = when capture started reporting the person
idle. Without a tray, :func:`start_idle_runner` runs an apscheduler job that measures "last seen" from the
newest frame or input event in the database — capture records input while the person works, so no new rows
for ``describe.idle_after_s`` seconds means nobody is at the machine — with no platform-specific idle API.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from typing import Any

from deskscribe.child import deskscribe_command
from deskscribe.config import DescribeConfig

log = logging.getLogger(__name__)

CHECK_EVERY_S = 60.0
DESCRIBE_ARGS = ("describe", "--progress", "none")


def should_run(now: float, last_activity: float | None, backlog: int, cfg: DescribeConfig) -> bool:
    """Run the backlog when idle processing is on, there is work, and nothing happened for idle_after_s."""
    if not cfg.idle_processing or backlog <= 0:
        return False
    return last_activity is None or now - last_activity >= cfg.idle_after_s


def run_describe_process(argv: list[str] | None = None) -> int:
    """Describe in a child process, so models never load into the tray's memory; returns its exit code."""
    proc = subprocess.run(argv or deskscribe_command(*DESCRIBE_ARGS), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode:
        log.warning("idle describe exited %s: %s", proc.returncode, proc.stderr.strip().splitlines()[-1:])
    return proc.returncode


def check_once(cfg: DescribeConfig, run: Callable[[], Any] = run_describe_process,
               now: Callable[[], float] = time.time) -> bool:
    """One scheduler tick: look at the database, run the backlog if idle. Returns whether it ran."""
    from deskscribe import paths
    from deskscribe.storage import episodes
    from deskscribe.storage.db import open_user_db

    if not paths.db_path().exists():
        return False
    db = open_user_db(readonly=True)
    try:
        due = should_run(now(), episodes.last_activity_ts(db), episodes.backlog(db), cfg)
    finally:
        db.conn.close()
    if due:
        log.info("machine idle with a describe backlog: describing")
        run()
    return due


def start_idle_runner(cfg: DescribeConfig, *, run: Callable[[], Any] = run_describe_process,
                      every_s: float = CHECK_EVERY_S, scheduler: Any = None) -> Any:
    """Start (and return) a BackgroundScheduler checking every ``every_s``; None when idle processing is off.

    Pass your own apscheduler scheduler to share one; call ``.shutdown()`` on the result to stop it.
    """
    if not cfg.idle_processing:
        return None
    from apscheduler.schedulers.background import BackgroundScheduler

    sched = scheduler or BackgroundScheduler(daemon=True)
    sched.add_job(check_once, "interval", seconds=every_s, args=[cfg, run], id="deskscribe-idle-describe",
                  max_instances=1, coalesce=True, replace_existing=True)
    if not sched.running:
        sched.start()
    return sched
