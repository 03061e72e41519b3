"""`deskscribe export` from the command line: help, the tray's JSON progress contract, errors, read-only."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from deskscribe.cli import main


def _one_episode(db, tmp_path: Path) -> Path:
    from deskscribe.capture.importer import import_folder
    from deskscribe.storage import descriptions as D

    folder = tmp_path / "src" / "ep"
    folder.mkdir(parents=True)
    Image.new("RGB", (200, 150), (10, 80, 160)).save(folder / "00.jpg")
    ep = import_folder(db, folder).episode_id
    D.add_description(db, ep, "The user looked at a blue screen.", ["Waited"], author="model")
    D.review(db, ep, "accepted")
    path = Path(db.conn.execute("PRAGMA database_list").fetchone()[2])
    db.conn.close()
    return path


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_help_names_every_format_and_option() -> None:
    res = CliRunner().invoke(main, ["export", "--help"])
    assert res.exit_code == 0
    for word in ("hf", "llama-factory", "openai", "llava", "jsonl", "--include-unreviewed", "--max-images",
                 "--max-side", "--val-fraction", "--seed", "--allow-flagged", "--progress", "--force"):
        assert word in res.output


def test_json_progress_and_read_only(db, tmp_path: Path) -> None:
    db_path = _one_episode(db, tmp_path)
    before = _fingerprint(db_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["export", "hf", str(out), "--progress", "json"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert lines and all(set(x) == {"done", "total", "message"} for x in lines)
    assert lines[-1]["done"] == lines[-1]["total"] == 1
    assert (out / "README.md").exists()
    assert _fingerprint(db_path) == before, "export changed the database file"


def test_out_dir_rules(db, tmp_path: Path) -> None:
    _one_episode(db, tmp_path)
    runner = CliRunner()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    for args in ([], ["--force"]):
        res = runner.invoke(main, ["export", "jsonl", str(busy), "--progress", "none", *args])
        assert res.exit_code == 1 and res.output.count("\n") == 1 and res.output.startswith("Error: ")
    assert (busy / "mine.txt").read_text() == "keep me"
    out = tmp_path / "out"
    res = runner.invoke(main, ["export", "jsonl", str(out)])  # default: a progress bar on stderr
    assert res.exit_code == 0 and "1/1" in res.stderr and res.stdout.startswith("exported 1 episodes")
    res = runner.invoke(main, ["export", "jsonl", str(out), "--progress", "none"])
    assert res.exit_code == 1 and "--force" in res.output
    res = runner.invoke(main, ["export", "jsonl", str(out), "--progress", "none", "--force"])
    assert res.exit_code == 0 and (out / "episodes.jsonl").exists()
    res = runner.invoke(main, ["export", "openai", str(tmp_path / "o"), "--max-images", "11"])
    assert res.exit_code == 1 and "at most 10" in res.output


def test_no_database_is_one_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["export", "hf", str(tmp_path / "o")])
    assert res.exit_code == 1 and res.output.startswith("Error: no database")


def test_tray_command_line(db, tmp_path: Path, deskscribe_home: Path) -> None:
    """What the tray's export dialog runs as a QProcess: JSON lines on stdout, nothing else."""
    _one_episode(db, tmp_path)
    out = tmp_path / "tray-out"
    proc = subprocess.run([sys.executable, "-m", "deskscribe", "export", "llava", str(out), "--progress", "json"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DESKSCRIBE_HOME": str(deskscribe_home)})
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[-1] == {"done": 1, "total": 1, "message": f"done: {out}"}
    assert "exported 1 episodes" in proc.stderr


def test_nothing_to_export_is_one_line_and_writes_nothing(db, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["export", "hf", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: nothing to export: no accepted or edited")
    assert not out.exists()
