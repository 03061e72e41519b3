"""`deskscribe export` (registered by deskscribe.cli)."""

from __future__ import annotations

from pathlib import Path

import click

from deskscribe import progress
from deskscribe.export import registry

FORMAT_HELP = f"""Write your reviewed episodes as a training dataset in FORMAT into OUT_DIR.

\b
FORMAT is one of:
{registry.help_table()}

Every format but llava also writes computer-use trajectories (one step per action: screenshot before
it, action with 0-1 coordinates, element, step text): hf config "trajectories" (+ "episodes"),
openai/llama-factory multi-turn chats (trajectories_*), jsonl trajectories.jsonl with pyautogui code.

Only accepted or edited episodes are used for SFT unless --include-unreviewed. Secrets and personal data
are redacted in all text and blacked out in images (OCR); redaction_report.json says what was found.
The database is only read. OUT_DIR must be empty (or an earlier export, with --force).
"""


def _json_progress(done: int, total: int, message: str) -> None:
    progress.json_line(done=done, total=total, message=message)


class _Bar(progress.Bar):
    def __init__(self) -> None:
        super().__init__("export")

    def __call__(self, done: int, total: int, message: str) -> None:
        self.update(done, total)


@click.command("export", help=FORMAT_HELP)
@click.argument("fmt", metavar="FORMAT", type=click.Choice(registry.names()))
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--include-unreviewed", is_flag=True,
              help="Also use model drafts of episodes nobody has reviewed yet (default: accepted/edited only).")
@click.option("--max-images", type=int, default=10, show_default=True,
              help="Most images (keyframes, spread over the episode) per example.")
@click.option("--max-side", type=int, default=1024, show_default=True,
              help="Resize images so the longer side is at most this many pixels (0 = keep).")
@click.option("--val-fraction", type=float, default=0.1, show_default=True,
              help="Fraction of episodes put in the validation split (split by episode).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the train/validation split.")
@click.option("--allow-flagged", is_flag=True,
              help="Export even when something flagged could not be redacted (you checked it yourself).")
@click.option("--force", is_flag=True, help="Replace OUT_DIR when it holds an earlier deskscribe export.")
@click.option("--license", "license_", default="other", show_default=True,
              help="License written into the dataset card (your data: 'other' unless you choose one).")
@click.option("--mark-actions", is_flag=True,
              help="Trajectories: also export each before-frame with its click point drawn (grounding data).")
@progress.option("Progress display: a bar on stderr, JSON lines {done, total, message} on stdout, or nothing.")
def export_cmd(fmt: str, out_dir: Path, include_unreviewed: bool, max_images: int, max_side: int,
               val_fraction: float, seed: int, allow_flagged: bool, force: bool, license_: str,
               mark_actions: bool, progress_mode: str) -> None:
    from deskscribe.config import load
    from deskscribe.export.core import ExportOptions, export
    from deskscribe.storage.db import open_user_db as open_db

    opts = ExportOptions(include_unreviewed=include_unreviewed, max_images=max_images, max_side=max_side,
                         val_fraction=val_fraction, seed=seed, allow_flagged=allow_flagged, force=force,
                         license=license_, mark_actions=mark_actions, ocr_engine=load().models.ocr_engine)
    bar = _Bar() if progress_mode == "bar" else None
    report = bar if bar else (_json_progress if progress_mode == "json" else None)
    db = open_db(readonly=True)
    try:
        result = export(db, fmt, out_dir, opts, progress=report)
    finally:
        if bar is not None:
            bar.close()
        db.conn.close()
    s = result.summary
    pairs = ", ".join(f"{k} {sum(v.values())}" for k, v in sorted(s.counts.items())) or "nothing"
    found = sum(s.redaction_counts.values())
    line = (f"exported {s.episodes} episodes ({pairs}) to {result.out_dir} in {result.seconds:.1f}s; "
            f"{found} redaction(s), see redaction_report.json")
    click.echo(line, err=progress_mode == "json")


commands: list[click.Command] = [export_cmd]
