"""`deskscribe` commands (see models/cli.py)."""

from __future__ import annotations

import click

commands: list[click.Command] = []
