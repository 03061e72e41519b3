"""Private files: under the usual umask 022, every path deskscribe writes under the data folder is 0700 (folders)
or 0600 (files) — database, WAL, SHM, logs, lock, config — and so is an export's top folder; a data folder
left readable by an older version is tightened on the next start, and that is said once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from .conftest import focus, poll, write_config

pytestmark = pytest.mark.x11


def _loose(root: Path) -> list[str]:
    """Every path under root (root included) whose mode is not 0700 (folder) / 0600 (file)."""
    bad = []
    for p in [root, *root.rglob("*")]:
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            continue
        want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
        if stat.S_IMODE(st.st_mode) != want:
            bad.append(f"{p.relative_to(root.parent)} {stat.S_IMODE(st.st_mode):o}")
    return bad


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deskscribe", *args], capture_output=True, text=True, timeout=300,
                          env=os.environ)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_every_path_is_private_whatever_the_umask(umask_022, xdisplay, xterm, start_capture, capdb,
                                                  deskscribe_home: Path, tmp_path: Path) -> None:
    write_config(deskscribe_home, {})  # written by the test under umask 022: folder 0755, config.toml 0644
    assert _loose(deskscribe_home), "the test starts from a loose folder"
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.new("RGB", (64, 48), (90, 20, 20)).save(folder / "00.png")
    hour_ago = os.stat(folder / "00.png").st_mtime - 3600
    os.utime(folder / "00.png", (hour_ago, hour_ago))  # imported frames take the file time: not forgotten below

    first = _cli("import", str(folder))
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("readable by others: made 2 paths private") == 1, first.stderr

    focus(xterm("deskscribe perms", "cat", "80x24+0+0"))
    proc = start_capture("--duration", "60")
    poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title = 'deskscribe perms'"), what="a frame")
    running = {p.relative_to(deskscribe_home).as_posix() for p in deskscribe_home.rglob("*")}
    assert {"deskscribe.db", "deskscribe.db-wal", "deskscribe.db-shm", "config.toml", "logs/capture.log",
            "run/capture.lock"} <= running, running
    assert _loose(deskscribe_home) == []  # while capture holds everything open
    assert proc.stop() == 0
    assert "readable by others" not in proc.stderr()  # said once: the first start fixed it

    assert _cli("forget", "--last", "1m").returncode == 0
    out = tmp_path / "exports" / "mine"
    exported = _cli("export", "jsonl", str(out), "--include-unreviewed")
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700
    assert _loose(deskscribe_home) == []
    assert "readable by others" not in exported.stderr
