"""`deskscribe` commands of this stage (registered by deskscribe.cli)."""

from __future__ import annotations

import click

commands: list[click.Command] = []
