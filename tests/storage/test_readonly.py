"""A data folder nobody may write (here: a read-only bind mount, since tests run as root and root ignores
file modes) opens read-only for status, show and export instead of 'not a deskscribe database'."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deskscribe", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DESKSCRIBE_HOME": str(home)})


@pytest.fixture
def readonly_home(tmp_path: Path) -> Iterator[Path]:
    home, mnt = tmp_path / "home", tmp_path / "ro"
    shots = tmp_path / "shots"
    shots.mkdir()
    Image.new("RGB", (64, 48), (20, 90, 160)).save(shots / "00.png")
    assert _cli(home, "import", str(shots)).returncode == 0
    mnt.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(home), str(mnt)], capture_output=True, text=True)
    if mounted.returncode != 0:  # the only way to get a folder root cannot write; a container may forbid it
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mnt)], check=True, capture_output=True)
        assert not os.access(mnt, os.W_OK)
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_status_show_and_export_read_a_readonly_folder(readonly_home: Path, tmp_path: Path) -> None:
    status = _cli(readonly_home, "status")
    assert status.returncode == 0, status.stderr
    assert "total     1 frames, 1 episodes" in status.stdout
    show = _cli(readonly_home, "show", "1")
    assert show.returncode == 0 and "00.png" in show.stdout, show.stderr
    out = tmp_path / "export"
    exported = _cli(readonly_home, "export", "jsonl", str(out), "--include-unreviewed")
    assert exported.returncode == 0, exported.stderr
    assert (out / "redaction_report.json").exists()
    imported = _cli(readonly_home, "import", str(tmp_path / "shots"))  # writing still says why it cannot
    assert imported.returncode == 1
    assert imported.stderr.strip().splitlines() == [
        f"Error: data folder {readonly_home} is not writable (Read-only file system); set DESKSCRIBE_HOME to a "
        "folder you can write"]
