"""A scripted desktop session for bench/capture_bench.py: xterm commands, typing, clicks, Ctrl+S and the File
menu in mousepad, keys in xcalc, scrolls and app switches, driven by xdotool at a person's pace, while
`deskscribe capture` runs at the default settings. Measures the capture process's CPU, what it stored, and the
share of actions with a frame from before them.

``code`` chooses which deskscribe runs: None = this checkout; a folder = a package tree laid out like the
installed one (see :func:`overlay`), so the same session can be run against an older commit.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STAGES = ("app", "capture", "models", "storage", "export")


def overlay(checkout: Path, into: Path) -> Path:
    """A folder whose ``deskscribe`` package is ``checkout``'s code (the layout pyproject's package-dir makes)."""
    pkg = into / "deskscribe"
    pkg.mkdir(parents=True)
    for item in (checkout / "deskscribe").iterdir():
        (pkg / item.name).symlink_to(item)
    for stage in STAGES:
        if (checkout / stage).exists():
            (pkg / stage).symlink_to(checkout / stage)
    return into


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class Desk:
    """The apps of the session and xdotool helpers, on ``display`` inside a D-Bus session."""

    def __init__(self, display: str, env: dict[str, str], work: Path) -> None:
        self.env, self.work = {**env, "DISPLAY": display}, work
        (work / "notes.txt").write_text("quarterly review notes\n")
        (work / "draft.txt").write_text("")
        self.procs = [
            self._start(["xterm", "-class", "XTerm", "-T", "shell", "-fa", "DejaVu Sans Mono", "-fs", "12",
                         "-geometry", "90x30+0+0", "-e", "sh", "-c", f"cd '{work}' && PS1='$ ' exec sh -i"]),
            self._start(["mousepad", "--disable-server", str(work / "draft.txt")]),
            self._start(["xcalc", "-geometry", "+1400+500"]),
        ]
        self.shell = self._wait(["--name", "^shell$"])
        self.editor = self._wait(["--onlyvisible", "--class", "Mousepad"])
        self.calc = self._wait(["--name", "^Calculator$"])
        self.xdo("windowmove", "--sync", self.editor, "800", "0")
        self.xdo("windowsize", "--sync", self.editor, "900", "600")

    def _start(self, cmd: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(cmd, env=self.env, cwd=self.work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _wait(self, query: list[str]) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            out = subprocess.run(["xdotool", "search", *query], capture_output=True, text=True, env=self.env)
            if out.returncode == 0 and out.stdout.split():
                return out.stdout.split()[0]
            time.sleep(0.2)  # polling the X server for a window to appear: nothing to block on
        raise RuntimeError(f"no window {query}")

    def xdo(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True, capture_output=True, timeout=30)

    def focus(self, window: str) -> None:
        self.xdo("windowactivate", "--sync", window)

    def close(self) -> None:
        for p in self.procs:
            p.terminate()
            p.wait(timeout=10)


def one_round(desk: Desk, n: int, pace: float) -> int:
    """About 20 s of work at ``pace`` = 1; returns the number of actions made."""
    def pause(s: float) -> None:
        time.sleep(s * pace)  # a person's pace between actions: the bench measures capture in real time

    desk.focus(desk.shell)
    desk.xdo("type", "--delay", "60", f"ls -la /usr/share | head -{3 + n % 5}")
    desk.xdo("key", "Return")
    pause(3)
    desk.xdo("type", "--delay", "60", f"echo round {n}")
    desk.xdo("key", "Return")
    pause(2)
    desk.xdo("click", "5", "click", "5")
    pause(2)
    desk.focus(desk.editor)
    desk.xdo("mousemove", "--window", desk.editor, "400", "300", "click", "1")
    desk.xdo("type", "--delay", "60", f"note {n}: review the figures")
    desk.xdo("key", "Return", "ctrl+s")
    pause(3)
    desk.xdo("mousemove", "--window", desk.editor, "18", "12", "click", "1")
    pause(1)
    desk.xdo("key", "Escape")
    pause(2)
    desk.focus(desk.calc)
    desk.xdo("mousemove", "--window", desk.calc, "30", "80", "click", "1")
    desk.xdo("type", "--delay", "80", f"{n}*7=")
    pause(3)
    return 12  # app switches 3, typing bursts 4, clicks 3, shortcut 1, scroll burst 1


def run_session(display: str, base_env: dict[str, str], seconds: float, code: Path | None,
                pace: float = 1.0) -> dict[str, Any]:
    """Run the scripted session for about ``seconds`` under ``deskscribe capture``; what it cost and stored."""
    tmp = Path(tempfile.mkdtemp(prefix="deskscribe-session-bench-"))
    home, work = tmp / "home", tmp / "work"
    home.mkdir()
    work.mkdir()
    env = {**base_env, "DISPLAY": display, "DESKSCRIBE_HOME": str(home)}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):  # fresh apps: no "restore session?"
        env[name] = str(tmp / name.lower())
    desk = Desk(display, env, work)
    cmd = [sys.executable, "-m", "deskscribe", "capture"]
    proc = subprocess.Popen(cmd, env=env, cwd=code or Path(__file__).resolve().parents[1],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_db(home / "deskscribe.db")
        c0, t0, actions, n = cpu_seconds(proc.pid), time.monotonic(), 0, 0
        while time.monotonic() - t0 < seconds:
            actions += one_round(desk, n, pace)
            n += 1
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
        proc.terminate()
        proc.wait(timeout=60)
        stored = stored_figures(home / "deskscribe.db")
        log = (home / "logs" / "capture.log").read_text(errors="replace").splitlines()
        stored["element_lookups"] = next((ln.split(": ", 1)[1] for ln in log if "element lookups" in ln), None)
        stored["lookup_errors"] = [ln.split("element lookup failed ", 1)[1] for ln in log
                                   if "element lookup failed " in ln][:5]
    finally:
        if proc.poll() is None:
            proc.kill()
        desk.close()
        shutil.rmtree(tmp, ignore_errors=True)
    hours = (t1 - t0) / 3600
    return {"seconds": round(t1 - t0, 1), "rounds": n, "actions_scripted": actions,
            "actions_per_min": round(actions / (t1 - t0) * 60, 1),
            "cpu_percent_one_core": round(100 * (c1 - c0) / (t1 - t0), 2),
            **stored, "frames_per_hour": round(stored["frames"] / hours),
            "mb_per_hour": round(stored["image_mb"] / hours, 1),
            "mb_per_8h": round(stored["image_mb"] / hours * 8)}


def _wait_db(path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists():
            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
                    if c.execute("SELECT count(*) FROM frames").fetchone()[0]:
                        return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.2)  # polling the capture subprocess's database: nothing to block on
    raise RuntimeError("capture stored no frame in 60 s")


def stored_figures(path: Path) -> dict[str, Any]:
    c = sqlite3.connect(path)
    cols = {r[1] for r in c.execute("PRAGMA table_info(events)")}
    frames = c.execute("SELECT count(*) FROM frames").fetchone()[0]
    image_mb = (c.execute("SELECT coalesce(sum(bytes), 0) FROM images").fetchone()[0]) / 2**20
    events = c.execute("SELECT count(*) FROM events").fetchone()[0]
    if "before_frame_id" in cols:
        before = c.execute("SELECT count(*) FROM events WHERE before_frame_id IS NOT NULL").fetchone()[0]
        clicks = c.execute("SELECT count(*), sum(json_extract(details, '$.element') IS NOT NULL)"
                           " FROM events WHERE kind = 'click'").fetchone()
        triggers = dict(c.execute("SELECT coalesce(trigger, '?'), count(*) FROM frames GROUP BY 1"))
    else:  # before this work events were stored with the frame of the next tick, after them
        before = c.execute("SELECT count(*) FROM events e JOIN frames f ON f.id = e.frame_id"
                           " WHERE f.ts <= e.ts").fetchone()[0]
        clicks, triggers = (c.execute("SELECT count(*) FROM events WHERE kind = 'click'").fetchone()[0], 0), {}
    kinds = dict(c.execute("SELECT kind, count(*) FROM events GROUP BY kind"))
    regions = (c.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM images WHERE base_hash IS NOT NULL").fetchone()
               if "base_hash" in {r[1] for r in c.execute("PRAGMA table_info(images)")} else (0, 0))
    images = c.execute("SELECT count(*) FROM images").fetchone()[0]
    c.close()
    return {"frames": frames, "image_mb": round(image_mb, 2), "images": images, "region_images": regions[0],
            "region_mb": round(regions[1] / 2**20, 2), "events": events, "events_by_kind": kinds,
            "share_with_before_frame": round(before / events, 3) if events else None,
            "clicks": clicks[0], "clicks_with_element": int(clicks[1] or 0), "frames_by_trigger": triggers}


if __name__ == "__main__":  # a quick look: python bench/capture_session.py DISPLAY SECONDS
    print(json.dumps(run_session(sys.argv[1], dict(os.environ), float(sys.argv[2]), None), indent=2))
