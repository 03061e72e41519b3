"""``--progress bar|json|none`` for long commands: a tqdm bar on stderr, or JSON lines on stdout.

The JSON lines are a contract: the tray runs ``describe`` and ``export`` as child processes and parses one
object per line with at least ``done``, ``total`` and ``message`` (app/jobs.py).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def option(help: str) -> Callable[[F], F]:
    """The ``--progress`` option, passed to the command as ``progress_mode``."""
    return click.option("--progress", "progress_mode", type=click.Choice(["bar", "json", "none"]), default="bar",
                        show_default=True, help=help)


def json_line(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class Bar:
    """A tqdm bar on stderr, created at the first update (when the total is known)."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.bar: Any = None

    def update(self, done: int, total: int, postfix: str | None = None) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, unit="episode", desc=self.desc, file=sys.stderr, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)
        if postfix is not None:
            self.bar.set_postfix_str(postfix, refresh=True)

    def write(self, text: str) -> None:
        """A line above the bar."""
        if self.bar is None:
            click.echo(text, err=True)
        else:
            self.bar.write(text, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
