"""`deskscribe doctor` on a healthy setup and on broken ones: each broken one reports its own problem line.

Real parts: SQLite files damaged on disk, a real tmpfs too small for capture, a database read-only for an
unprivileged user (the tests run as root, who may write anything: doctor runs as `nobody` through setpriv),
model files missing or not GGUF, no display or one that cannot be reached, and (x11) a real Xvfb with
RECORD and a D-Bus session whose accessibility registry answers.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deskscribe.cli import main
from deskscribe.storage.db import open_db

from .conftest import REPO, stop_process

NOBODY = 65534


def doctor(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["doctor", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output.splitlines()


def problems(lines: list[str]) -> list[str]:
    return [ln for ln in lines if ln.startswith("PROBLEM")]


def make_db(home: Path, frames: int = 0) -> Path:
    """A real deskscribe database, private (0700 folder, 0600 file), with ``frames`` synthetic frames."""
    from synthetic import fill_synthetic

    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    db = open_db(home / "deskscribe.db")
    if frames:
        fill_synthetic(db, episodes=frames // 10, frames_per_episode=10, image=noise_png())
    db.conn.close()  # the last connection: the WAL is checkpointed into the file and removed
    (home / "deskscribe.db").chmod(0o600)
    return home / "deskscribe.db"


def noise_png(side: int = 160) -> bytes:
    """A PNG that does not compress (random pixels): the database gets many pages."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "DBUS_SESSION_BUS_ADDRESS", "AT_SPI_BUS_ADDRESS"):
        monkeypatch.delenv(name, raising=False)


def test_fresh_setup_without_a_display(deskscribe_home: Path, no_display: None) -> None:
    """What is skipped without a display: display, input and accessibility say so; the rest is checked."""
    code, lines = doctor()
    assert code == 1
    assert problems(lines) == [
        "PROBLEM  display: no display: DISPLAY is not set → run deskscribe inside your desktop session (or set DISPLAY)",
        "PROBLEM  input: not checked: no display",
        "PROBLEM  accessibility: no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set) → install at-spi2-core and "
        "run inside your desktop session (clicks are stored without their element)",
    ]
    names = [ln.split(":")[0].split(None, 1)[1] for ln in lines if ln.startswith("ok")]
    assert names == ["config", "data folder", "free space", "database", "bundled model", "models.summarizer",
                     "ocr (RapidOCR)", "ocr (Tesseract)"]
    assert not deskscribe_home.exists()  # doctor changes nothing, not even by creating the folder


def test_json_report(deskscribe_home: Path, no_display: None) -> None:
    code, lines = doctor("--json")
    report = json.loads("\n".join(lines))
    assert code == 1 and report["ok"] is False
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["display"]["ok"] is False and by_name["display"]["fix"].startswith("run deskscribe inside")
    assert by_name["database"]["ok"] is True
    assert all(c["line"].startswith("ok " if c["ok"] else "PROBLEM ") for c in report["checks"])


def test_unreachable_display(deskscribe_home: Path, no_display: None, monkeypatch: pytest.MonkeyPatch) -> None:
    n = next(n for n in range(250, 400) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    monkeypatch.setenv("DISPLAY", f":{n}")
    code, lines = doctor()
    assert code == 1
    assert [ln for ln in problems(lines) if "display" in ln.split(":")[0]][0].startswith(
        f"PROBLEM  display: cannot open display :{n} (")
    assert "PROBLEM  input: not checked: the display cannot be opened" in lines


def test_damaged_database_pages(deskscribe_home: Path, no_display: None) -> None:
    path = make_db(deskscribe_home, frames=200)
    raw = bytearray(path.read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    assert len(raw) > 12 * page
    for n in range(4, 10):  # the header (page 1) stays intact: the file still opens
        raw[n * page:(n + 1) * page] = os.urandom(page)
    path.write_bytes(bytes(raw))
    code, lines = doctor()
    assert code == 1
    [line] = [ln for ln in lines if ln.split(":")[0].endswith("database")]
    assert line.startswith(f"PROBLEM  database: {path} is damaged ("), line
    assert line.endswith("→ stop capture, keep a copy of the file, then rescue what is left: sqlite3 deskscribe.db "
                         ".recover | sqlite3 rescued.db (and put rescued.db in its place)")


def test_database_from_a_newer_version(deskscribe_home: Path, no_display: None) -> None:
    path = make_db(deskscribe_home)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _migrations (name, applied_ts) VALUES ('9999_from_the_future', 0)")
    conn.commit()
    conn.close()
    code, lines = doctor()
    assert code == 1
    assert f"PROBLEM  database: {path} was written by a newer deskscribe (schema 9999_from_the_future); upgrade " \
           "deskscribe to open it — the database was not changed" in lines


def test_data_folder_open_to_others(deskscribe_home: Path, no_display: None) -> None:
    path = make_db(deskscribe_home)
    deskscribe_home.chmod(0o755)
    path.chmod(0o644)
    code, lines = doctor()
    assert code == 1
    assert f"PROBLEM  data folder: readable by others: {deskscribe_home} (0755), {path} (0644) → chmod -R go-rwx " \
           f"{deskscribe_home} (folders 0700, files 0600)" in lines


@pytest.fixture
def world_reachable_tmp() -> Iterator[Path]:
    """A folder another user can reach (pytest's own tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="deskscribe-doctor-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_nobody(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
    env.update(DESKSCRIBE_HOME=str(home), HOME=str(home.parent))
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           sys.executable, "-m", "deskscribe", "doctor", *args],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to "
                    "run doctor as an unprivileged user")
def test_read_only_database_for_a_user_without_override(world_reachable_tmp: Path) -> None:
    home = world_reachable_tmp / "home"
    path = make_db(home, frames=20)
    before = path.read_bytes()
    for p in (home, path):
        os.chown(p, NOBODY, NOBODY)
    path.chmod(0o400)
    proc = as_nobody(home)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert f"PROBLEM  database: {path} is read-only for you: capture, describe and forget cannot write it → make " \
           f"it writable: chmod u+w {path} (as its owner)" in lines, proc.stdout
    assert not [ln for ln in lines if ln.startswith("PROBLEM  database") and "damaged" in ln]
    assert "ok       data folder" in proc.stdout and path.read_bytes() == before  # checked, not changed


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_too_little_free_space(world_reachable_tmp: Path, no_display: None, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = world_reachable_tmp / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)], check=True)
    try:
        home = mount / "home"
        make_db(home)
        monkeypatch.setenv("DESKSCRIBE_HOME", str(home))
        code, lines = doctor()
        free = shutil.disk_usage(home).free / 2**20
        assert code == 1
        assert f"PROBLEM  free space: {free:.0f} MB free where {home} lives; capture pauses below " \
               "capture.min_free_mb = 200 → free some space on that disk, or move DESKSCRIBE_HOME" in lines
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def write_config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text)


def test_missing_model_file(deskscribe_home: Path, tmp_path: Path, no_display: None) -> None:
    missing = tmp_path / "models" / "gone.gguf"
    write_config(deskscribe_home, f'[models]\nsummarizer = "{missing}"\n')
    code, lines = doctor()
    assert code == 1
    found = [ln for ln in problems(lines) if str(missing) in ln]
    assert found and "not found" in found[0], lines  # from the models check (or config's, where it checks paths)


def test_model_file_that_is_not_gguf(deskscribe_home: Path, tmp_path: Path, no_display: None) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("<html>404 Not Found</html>")
    write_config(deskscribe_home, f'[models]\nsummarizer = "{fake}"\n')
    code, lines = doctor()
    assert code == 1
    found = [ln for ln in problems(lines) if str(fake) in ln]
    assert found and "is not a GGUF file (it starts with b'<htm', not b'GGUF')" in found[0], lines


@pytest.mark.x11
def test_healthy_setup(xdisplay: str, deskscribe_home: Path, tmp_path: Path) -> None:
    """Xvfb with RECORD, a D-Bus session (at-spi2-core's registry activated on it), a private data folder with
    a real database, the bundled model and OCR data: every line ok, exit code 0 — from the real command."""
    make_db(deskscribe_home, frames=20)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    xdg = {f"XDG_{k}_HOME": str(tmp_path / "xdg" / k.lower()) for k in ("CONFIG", "DATA", "CACHE", "STATE")}
    env = {**os.environ, **xdg, "DISPLAY": xdisplay, "DBUS_SESSION_BUS_ADDRESS": address}
    env.pop("AT_SPI_BUS_ADDRESS", None)
    try:
        proc = subprocess.run([sys.executable, "-m", "deskscribe", "doctor"], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=120)
    finally:
        stop_process(bus)
        bus.stdout.close()
        _stop_session_services(address)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert all(ln.startswith("ok ") for ln in lines), lines
    names = [ln.split(":")[0].split(None, 1)[1] for ln in lines]
    assert names == ["config", "data folder", "free space", "database", "display", "input", "accessibility",
                     "bundled model", "models.summarizer", "ocr (RapidOCR)", "ocr (Tesseract)"]
    assert f"ok       display: {xdisplay} (1280×800)" in lines
    assert "ok       input: RECORD extension present: clicks and keys can be recorded" in lines


def _stop_session_services(address: str) -> None:
    """What the session bus activated (at-spi's bus and registry) outlives it, reparented to init."""
    mark = f"DBUS_SESSION_BUS_ADDRESS={address}".encode()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if mark in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), 15)
        except (OSError, ProcessLookupError):
            continue
