"""Sane bounds for every time and span that comes in from outside (config, import metadata, the command line).

A time outside them is a typo or a unit mistake (milliseconds for seconds, ``1e308``), never a real capture:
deskscribe refuses it at the door with one line, so nothing downstream (the scheduler, ``datetime``, SQLite's
INTEGER) ever sees it.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

import click

EARLIEST_TS = dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp()  # before any screenshot deskscribe stores
AHEAD_S = 86_400.0  # a clock a little ahead (another machine's files, time zones) is still fine
EARLIEST_TEXT = "2000-01-01"
MAX_WAIT_S = 366 * 86_400.0  # the longest pause, run or wait the command line accepts: a year
MAX_ID = 2**63 - 1  # SQLite's INTEGER


def latest_ts(now: float | None = None) -> float:
    return (time.time() if now is None else now) + AHEAD_S


def time_problem(value: Any, now: float | None = None) -> str | None:
    """Why ``value`` is not a Unix time deskscribe accepts (None when it is one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"must be a Unix time in seconds (got {value!r})"
    if not EARLIEST_TS <= value <= latest_ts(now):
        hint = ": milliseconds?" if EARLIEST_TS <= value / 1000 <= latest_ts(now) else ""
        return f"must be a Unix time in seconds between {EARLIEST_TEXT} and tomorrow (got {value!r}{hint})"
    return None


def span_problem(seconds: float, now: float | None = None) -> str | None:
    """Why a span reaching back from now is not acceptable: it must end after :data:`EARLIEST_TS`."""
    now = time.time() if now is None else now
    if math.isnan(seconds) or seconds <= 0:
        return "must be a positive span"
    if now - seconds < EARLIEST_TS:
        return f"reaches back before {EARLIEST_TEXT}, when nothing can have been captured"
    return None


class Seconds(click.ParamType):
    """A number of seconds (or minutes, with ``unit``) above 0 and at most :data:`MAX_WAIT_S`: a click type
    for the command line's waits, so ``--minutes 1e300`` is a usage error, not an OverflowError."""

    name = "number"

    def __init__(self, unit: str = "seconds") -> None:
        self.unit = unit
        self.most = MAX_WAIT_S / (60 if unit == "minutes" else 1)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of {self.unit}", param, ctx)
        if not 0 < number <= self.most:
            self.fail(f"must be above 0 and at most {self.most:g} {self.unit} (a year) (got {value})", param, ctx)
        return number


ID = click.IntRange(1, MAX_ID)  # an episode or frame id as SQLite can hold it
