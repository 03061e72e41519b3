"""`deskscribe task start | finish | cancel | note`: task mode, acting on the running capture of this data folder
(the request travels through the database, see storage/tasks.py; capture's writer applies it)."""

from __future__ import annotations

import click


def _ask(op: str, text: str = "", outcome: str | None = None) -> None:
    from deskscribe.storage import tasks
    from deskscribe.storage.db import open_user_db

    db = open_user_db()
    try:
        click.echo(tasks.ask(db, op, text, outcome))
    finally:
        db.conn.close()


@click.group("task")
def task_group() -> None:
    """Task mode: name what you are about to do; its span becomes one episode with your words as its task."""


@task_group.command("start")
@click.argument("text")
def start_cmd(text: str) -> None:
    """Start a task in your own words, e.g. `deskscribe task start "Write the meeting notes"`.

    Capture closes the current episode; everything until `task finish` is one episode, never split."""
    _ask("start", text)


@task_group.command("finish")
@click.option("--gave-up", is_flag=True, help="The task was not done (stored as outcome gave_up).")
def finish_cmd(gave_up: bool) -> None:
    """Finish the running task (outcome done, or gave_up with --gave-up); its text becomes the episode's task."""
    _ask("finish", outcome="gave_up" if gave_up else "done")


@task_group.command("cancel")
def cancel_cmd() -> None:
    """Drop the running task's marks; what was captured stays as an ordinary episode."""
    _ask("cancel")


@task_group.command("note")
@click.argument("text")
def note_cmd(text: str) -> None:
    """A quick note on the current episode: its task when you have not named it yet, else a timed note."""
    _ask("note", text)
