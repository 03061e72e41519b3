"""An export killed halfway is cleaned up by the next one and never looks finished; the hf card offers only
configs that load (issue 23). Real processes, a real SIGKILL, real ``datasets.load_dataset``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from ..conftest import run_cli, stop_process, wait_for

MARKER = "deskscribe-export.json"


def _episodes(db, root: Path, n: int, accept: bool = True) -> None:  # type: ignore[no-untyped-def]
    """``n`` imported episodes of two distinct frames with text on them (OCR reads them: it takes a while),
    each with a model draft (accepted, or left unreviewed): nothing corrected."""
    from deskscribe.capture.importer import import_folder
    from deskscribe.storage import descriptions as D

    for e in range(n):
        folder = root / f"ep{e}"
        folder.mkdir(parents=True)
        for i in range(2):
            img = Image.new("RGB", (480, 320), (250, 250, 250))
            ImageDraw.Draw(img).text((20, 40 + 30 * i), f"episode {e} frame {i} notes", fill=(0, 0, 0))
            img.save(folder / f"{i:02d}.png")
        ep = import_folder(db, folder).episode_id
        assert ep is not None
        D.add_description(db, ep, f"The user read notes {e}.", [f"Read note {e}"], author="model")
        if accept:
            D.review(db, ep, "accepted")


def _partials(out: Path) -> list[Path]:
    return sorted(p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.partial-") and p.is_dir())


def test_a_killed_export_leaves_no_finished_looking_folder_and_the_next_one_cleans_up(db, tmp_path: Path,
                                                                                       deskscribe_home: Path) -> None:
    _episodes(db, tmp_path / "src", 12)
    db.conn.close()
    out = tmp_path / "exports" / "OUT"
    proc = subprocess.Popen([sys.executable, "-m", "deskscribe", "export", "jsonl", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "DESKSCRIBE_HOME": str(deskscribe_home)})
    try:
        def images_written() -> bool:
            return out.parent.exists() and any(
                f.suffix in (".png", ".jpg", ".jpeg", ".webp") for p in _partials(out) for f in p.rglob("*"))

        wait_for(lambda: images_written() or proc.poll() is not None, timeout=240, what="screenshots written")
        assert proc.poll() is None, "the export finished before it could be killed: give it more episodes"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        stop_process(proc)
    (left,) = _partials(out)
    assert not (left / MARKER).exists(), "the manifest is written last: a killed export never looks finished"
    assert not out.exists()
    again = run_cli(deskscribe_home, "export", "jsonl", str(out))
    assert again.returncode == 0, again.stderr
    assert _partials(out) == [] and not list(out.parent.glob(".OUT.partial-*.lock"))
    marker = json.loads((out / MARKER).read_text())
    assert marker["format"] == "jsonl" and marker["episodes"] == 12


def test_partial_folders_not_ours_or_still_running_are_left_alone(tmp_path: Path) -> None:
    from deskscribe.export import partial

    out = tmp_path / "OUT"
    running, lock = partial.make(out)  # an export to the same folder in progress
    foreign = tmp_path / ".OUT.partial-handmade"  # no lock file: not recognisably deskscribe's
    foreign.mkdir()
    stale = tmp_path / ".OUT.partial-stale"
    (stale / "frames").mkdir(parents=True)
    (stale / "frames" / "1.jpg").write_bytes(b"x")
    Path(f"{stale}.lock").write_text("999999")  # its export was killed: the lock file stays, nobody holds it
    assert partial.remove_stale(out) == [stale]
    assert running.is_dir() and foreign.is_dir() and not stale.exists()
    partial.discard(running, lock)
    assert not running.exists() and not Path(f"{running}.lock").exists()


def test_hf_card_lists_only_configs_with_rows_and_each_loads(db, tmp_path: Path, deskscribe_home: Path) -> None:
    from datasets import load_dataset

    _episodes(db, tmp_path / "src", 2, accept=False)  # a fresh session: drafts, nothing reviewed or corrected
    db.conn.close()
    out = tmp_path / "hf"
    done = run_cli(deskscribe_home, "export", "hf", str(out), "--include-unreviewed")
    assert done.returncode == 0, done.stderr
    card = (out / "README.md").read_text()
    listed = re.findall(r"^- config_name: (\S+)$", card, flags=re.M)
    assert listed and "dpo" not in listed and "kto" not in listed, listed
    for config in listed:
        rows = [r for split in load_dataset(str(out), config).values() for r in split]
        assert rows, config
    assert "Not in this export" in card and "`dpo`: no description you corrected" in card
    assert "`kto`" in card
    assert not (out / "data" / "dpo").exists()


def test_hf_with_no_rows_at_all_is_one_line(db, tmp_path: Path, deskscribe_home: Path) -> None:
    from deskscribe.capture.importer import import_folder

    from ..conftest import one_error_line

    folder = tmp_path / "src" / "bare"
    folder.mkdir(parents=True)
    Image.new("RGB", (64, 48), (1, 2, 3)).save(folder / "00.png")
    import_folder(db, folder)
    db.conn.close()
    line = one_error_line(run_cli(deskscribe_home, "export", "hf", str(tmp_path / "hf"), "--include-unreviewed"))
    assert line.startswith("Error: nothing to export as hf: no episode gave a single example (sft: "), line
    assert not (tmp_path / "hf").exists() and _partials(tmp_path / "hf") == []
