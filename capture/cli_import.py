"""`deskscribe import`: folders of screenshots become episodes, as capture would have stored them."""

from __future__ import annotations

from pathlib import Path

import click

from deskscribe.config import load as load_config


@click.command("import")
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--keep-typed-text", is_flag=True,
              help="Store text from 'type' actions in the metadata (off unless capture.store_typed_text is on).")
def import_cmd(folders: tuple[Path, ...], keep_typed_text: bool) -> None:
    """Import folders of screenshots, one episode per folder (file-name order is time order).

    An optional deskscribe.json in a folder (or an episodes.jsonl beside it) gives timestamps,
    app and window titles, and input actions per frame; see the README.
    """
    from deskscribe import paths
    from deskscribe.capture.importer import display, import_folder
    from deskscribe.errors import ImportFailed
    from deskscribe.storage import space
    from deskscribe.storage.db import open_user_db

    cfg = load_config()
    db = open_user_db()
    space.require_free(paths.user_dir(), "import")
    failed = 0
    for folder in folders:
        try:
            res = import_folder(db, folder, keep_typed_text=keep_typed_text or cfg.capture.store_typed_text)
        except ImportFailed as exc:
            if len(folders) == 1:
                raise  # its own one line, naming the folder, the file and why
            click.echo(f"skipped {display(folder)}: {exc}", err=True)
            failed += 1
            continue
        for name, why in res.skipped:
            click.echo(f"  skipped {display(folder)}/{name}: {why}", err=True)
        click.echo(f"imported {display(folder)} as episode {res.episode_id} ({res.frames} frames)")
    if failed:
        raise click.ClickException(f"{failed} of {len(folders)} folders could not be imported")
