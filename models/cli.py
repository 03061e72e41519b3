"""`deskscribe` commands of the models stage (registered by deskscribe.cli)."""

from __future__ import annotations

import click

from deskscribe.models.cli_describe import commands as describe_commands
from deskscribe.models.cli_manage import commands as manage_commands

commands: list[click.Command] = [*describe_commands, *manage_commands]
