"""A read-only, a damaged and a full database each end every command in one `Error:` line that names the file
and what to do, a non-zero exit and the data untouched (issue 23). Real files, real processes; the read-only
cases run as root *without* its override capabilities (DAC override, DAC read search, fowner), so the file
modes hold for the process as they would for any user."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from ..conftest import one_error_line, run_cli

NO_OVERRIDE = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
WRITERS = [["describe"], ["forget", "--last", "5m"], ["import", "{shots}"], ["pause"], ["resume"],
           ["capture", "--duration", "1"]]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(db: Path) -> tuple[int, str]:
    """Frame count and a checksum of every frame row and image: what 'nothing lost' means."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT f.id, f.ts, f.image_hash, i.data FROM frames f JOIN images i "
                            "ON i.hash = f.image_hash ORDER BY f.id").fetchall()
    finally:
        conn.close()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def _shots(folder: Path, n: int, size: tuple[int, int] = (64, 48), noise: bool = False) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        img = (Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise
               else Image.new("RGB", size, (20 * i % 255, 90, 160)))
        img.save(folder / f"{i:02d}.png")
    return folder


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, Path]:
    """A data folder with two imported episodes (24 frames of noise: many pages); and a folder to import."""
    home = tmp_path / "home"
    assert run_cli(home, "import", str(_shots(tmp_path / "noise", 20, (120, 90), noise=True))).returncode == 0
    shots = _shots(tmp_path / "shots", 4)
    assert run_cli(home, "import", str(shots)).returncode == 0
    return home, shots


def _argv(args: list[str], shots: Path) -> list[str]:
    return [a.replace("{shots}", str(shots)) for a in args]


def test_a_read_only_database_refuses_every_write_in_one_line(filled: tuple[Path, Path]) -> None:
    home, shots = filled
    db = home / "deskscribe.db"
    db.chmod(0o400)
    denied = subprocess.run([*NO_OVERRIDE, "sh", "-c", f"echo x >> '{db}'"], capture_output=True)
    assert denied.returncode != 0, "the test process still overrides file modes"
    before, rows = _sha(db), _rows(db)
    for args in WRITERS:
        line = one_error_line(run_cli(home, *_argv(args, shots), user=NO_OVERRIDE))
        assert line == (f"Error: {db} is read-only (mode 0400): make it and its -wal/-shm files writable "
                        "(chmod u+w), or set DESKSCRIBE_HOME to a folder you can write; nothing was changed"), args
    status = run_cli(home, "status", user=NO_OVERRIDE)  # reading still works
    assert status.returncode == 0 and "total     24 frames, 2 episodes" in status.stdout, status.stderr
    assert _sha(db) == before and _rows(db) == rows


def _damage(db: Path) -> None:
    """Random bytes over four pages in the middle of the file; the header (page 1) stays intact."""
    pages = db.stat().st_size // 4096
    with db.open("r+b") as fh:
        for page in range(pages // 2, pages // 2 + 4):
            fh.seek(page * 4096)
            fh.write(os.urandom(4096))


def test_a_damaged_database_is_recognised_at_open(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, shots = filled
    db = home / "deskscribe.db"
    _damage(db)
    before = _sha(db)
    for args in [["status"], ["show", "1"], ["export", "jsonl", str(tmp_path / "out"), "--include-unreviewed"],
                 *WRITERS]:
        line = one_error_line(run_cli(home, *_argv(args, shots)))
        assert line.startswith(f"Error: {db} is damaged (") and "restore it from a backup" in line, (args, line)
        assert f"sqlite3 '{db}' .recover" in line
        assert _sha(db) == before, args  # nothing was written into it
    assert not (tmp_path / "out").exists()


def test_damage_found_mid_command_is_the_same_one_line(filled: tuple[Path, Path]) -> None:
    """Pages past the quick check's budget: SQLITE_CORRUPT met later says the same (storage.db.translate)."""
    from deskscribe.storage import health

    home, _ = filled
    db = home / "deskscribe.db"
    with sqlite3.connect(db) as probe:  # the images table's root page: every read of the table passes through it
        root, size = probe.execute("SELECT rootpage FROM sqlite_master WHERE name = 'images'").fetchone()[0], \
            probe.execute("PRAGMA page_size").fetchone()[0]
    probe.close()
    with db.open("r+b") as fh:
        fh.seek((root - 1) * size)
        fh.write(os.urandom(size))
    assert health.classify(db, full=True).kind == "damaged"
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        conn.execute("SELECT count(*), sum(length(data)) FROM images").fetchall()
    conn.close()
    from deskscribe.storage.db import translate

    known = translate(caught.value, db)
    assert isinstance(known, health.DamagedDatabase) and str(known).startswith(f"{db} is damaged")


def test_classify_tells_each_state(filled: tuple[Path, Path], tmp_path: Path) -> None:
    from deskscribe.storage import health

    home, _ = filled
    db = home / "deskscribe.db"
    assert health.classify(db) == health.Health("ok")
    assert health.classify(tmp_path / "none.db").kind == "missing"
    newer = tmp_path / "newer.db"
    shutil.copy(db, newer)
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO _migrations (name, applied_ts) VALUES ('999_future', 0)")
    conn.commit()
    conn.close()
    assert health.classify(newer).kind == "newer"
    _damage(db)
    assert health.classify(db).kind == "damaged"


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real full disk: a 40 MB tmpfs holding the data folder, then filled to the last block."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mnt)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def _fill(folder: Path) -> None:
    with (folder / "filler").open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass


def test_a_full_disk_stops_writing_work_and_forget_still_works(full_disk: Path, tmp_path: Path) -> None:
    home = full_disk / "home"
    assert run_cli(home, "import", str(_shots(tmp_path / "noise", 20, (120, 90), noise=True))).returncode == 0
    shots = _shots(tmp_path / "shots", 4)
    assert run_cli(home, "import", str(shots)).returncode == 0
    assert (home / "deskscribe.reserve").stat().st_size > 0  # made while there was room
    db = home / "deskscribe.db"
    rows = _rows(db)
    _fill(full_disk)
    assert shutil.disk_usage(full_disk).free < 2**20
    for args in [["describe"], ["import", str(shots)], ["pause"]]:
        line = one_error_line(run_cli(home, *args))
        assert line.startswith(f"Error: the disk holding {home}") and "is full" in line, (args, line)
        assert "free some space" in line and "forget` still works" in line
        assert _rows(db) == rows, args
    status = run_cli(home, "status")
    assert status.returncode == 0 and "total     24 frames, 2 episodes" in status.stdout, status.stderr
    forgot = run_cli(home, "forget", "--episode", "1")
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout.startswith("forgot episode 1: 20 frames, 20 images") and "the disk was full" in forgot.stdout
    assert _rows(db)[0] == 4
    left = run_cli(home, "show", "2")
    assert left.returncode == 0 and "4 frames" in left.stdout
