"""Helpers for capture tests: config files, capture subprocesses, real xterm windows, DB polling."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import stop_process, wait_for

FAST = {"capture": {"interval_s": 0.3, "debounce_s": 0.2, "change_threshold": 0.0005, "min_free_mb": 1},
        "retention": {"every_min": 60.0}}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def write_config(home: Path, sections: dict[str, dict[str, Any]]) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in FAST.items()}
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    text = "".join(f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in vals.items()) for name, vals in merged.items())
    path = home / "config.toml"
    path.write_text(text)
    return path


def poll(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Wait until ``predicate`` is truthy (polling a subprocess/X server/database: nothing to block on)."""
    return wait_for(predicate, timeout=timeout, what=what)


def let_ticks_pass(seconds: float) -> None:
    """A negative check ("no frame while paused") needs capture ticks to happen; there is no event for a
    tick that did nothing, so this waits a bounded number of intervals."""
    time.sleep(seconds)


class CaptureDB:
    """Read-only queries on the capture database while a capture process writes it."""

    def __init__(self, home: Path) -> None:
        self.path = home / "deskscribe.db"

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:  # schema not created yet
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    def one(self, sql: str, *args: Any) -> Any:
        rows = self.rows(sql, *args)
        return rows[0][0] if rows else None

    def frames(self) -> int:
        return self.one("SELECT count(*) FROM frames") or 0

    def state(self) -> dict[str, Any]:
        import json

        raw = self.one("SELECT value FROM kv WHERE key = 'capture.state'")
        return json.loads(raw) if raw else {}


@pytest.fixture
def capdb(deskscribe_home: Path) -> CaptureDB:
    return CaptureDB(deskscribe_home)


class CaptureProcess:
    def __init__(self, home: Path, args: list[str], env: dict[str, str] | None = None) -> None:
        self.log = home.parent / f"capture-{time.monotonic_ns()}.err"
        self._err = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deskscribe", "capture", *args],
            env={**os.environ, "DESKSCRIBE_HOME": str(home), **(env or {})},
            stdout=subprocess.PIPE, stderr=self._err,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._err.close()
            if self.proc.stdout:
                self.proc.stdout.close()
        return code


@pytest.fixture
def start_capture(deskscribe_home: Path) -> Iterator[Callable[..., CaptureProcess]]:
    started: list[CaptureProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> CaptureProcess:
        proc = CaptureProcess(deskscribe_home, list(args), env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop(signal.SIGKILL, timeout=10)


def window_id(title: str, display: str | None = None) -> str | None:
    env = {**os.environ, **({"DISPLAY": display} if display else {})}
    out = subprocess.run(["xdotool", "search", "--name", f"^{title}$"], capture_output=True, text=True, env=env)
    ids = out.stdout.split()
    return ids[0] if out.returncode == 0 and ids else None


@pytest.fixture
def xterm(xdisplay: str) -> Iterator[Callable[..., str]]:
    """Open a real xterm titled ``title`` running ``command``; returns its X window id."""
    procs: list[subprocess.Popen[bytes]] = []

    def open_xterm(title: str, command: str = "cat", geometry: str = "80x24+0+0", display: str | None = None,
                   wm_class: str = "XTerm") -> str:
        env = {**os.environ, **({"DISPLAY": display} if display else {})}
        procs.append(subprocess.Popen(
            ["xterm", "-class", wm_class, "-T", title, "-geometry", geometry, "-e", "sh", "-c", command],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        proc = procs[-1]

        def found() -> str | None:
            if proc.poll() is not None:
                pytest.fail(f"xterm {title!r} exited: {proc.stderr.read().decode(errors='replace') if proc.stderr else ''}")
            return window_id(title, display)

        return poll(found, timeout=20, what=f"xterm {title!r} on {display or os.environ.get('DISPLAY')}")

    yield open_xterm
    for proc in procs:
        stop_process(proc)
        if proc.stderr:
            proc.stderr.close()


def xdo(*args: str, display: str | None = None) -> None:
    env = {**os.environ, **({"DISPLAY": display} if display else {})}
    subprocess.run(["xdotool", *args], check=True, env=env, capture_output=True, timeout=30)


def focus(window: str, display: str | None = None) -> None:
    """Activate a window and wait until the window manager says it has focus (a just-mapped window can
    still take the focus from it)."""
    env = {**os.environ, **({"DISPLAY": display} if display else {})}

    def active() -> bool:
        xdo("windowactivate", "--sync", window, display=display)
        out = subprocess.run(["xdotool", "getactivewindow"], capture_output=True, text=True, env=env)
        return out.stdout.strip() == window

    poll(active, timeout=20, what=f"focus on window {window}")
