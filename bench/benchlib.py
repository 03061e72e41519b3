"""What the benchmarks share: a real X session, process CPU/RSS from /proc, the conditions of a run, output.

Benchmarks measure; they never assert on time. Every report names the machine, the load while it ran, and
what was measured, so a figure quoted elsewhere can be traced to its conditions.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
RESULTS = REPO / "bench" / "results"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def conditions(**extra: Any) -> dict[str, Any]:
    """Machine, cores, Python, the time and the load average: the context every result is stated in."""
    return {"when_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "machine": platform.machine(),
            "cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()], **extra}


def conditions_line(c: dict[str, Any]) -> str:
    load = " ".join(str(x) for x in c["load_avg_at_start"])
    end = " ".join(str(x) for x in c.get("load_avg_at_end", []))
    return (f"{c['when_utc']} UTC on {c['machine']} ({c['cpu']}), {c['cores']} cores, Python {c['python']}; "
            f"load average (1/5/15 min) {load} at start" + (f", {end} at end" if end else "")
            + " (the machine is shared with other work: compare figures of one run, not across runs)")


def write(name: str, result: dict[str, Any], markdown_fn: Callable[[dict[str, Any]], str], *,
          publish: bool = True) -> None:
    """bench/out/NAME.{json,md}; with ``publish`` also bench/results/NAME.{json,md} (what the README quotes).

    The load average at the end is added to the conditions before the Markdown is made from ``result``.
    """
    OUT.mkdir(parents=True, exist_ok=True)
    if "conditions" in result:
        result["conditions"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    markdown = markdown_fn(result)
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (OUT / f"{name}.md").write_text(markdown)
    if publish:
        RESULTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(OUT / f"{name}.json", RESULTS / f"{name}.json")
        shutil.copy(OUT / f"{name}.md", RESULTS / f"{name}.md")
    print(markdown)


# --- processes --------------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (its threads included; children not)."""
    fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / TICK


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def status_mb(pid: int, key: str) -> float:
    """A kB field of /proc/PID/status (VmHWM: peak RSS, VmRSS) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


@dataclass
class Sampler:
    """RSS of a process every ``every_s`` seconds in a thread, until stopped."""

    pid: int
    every_s: float = 0.5
    samples: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.samples.append(rss_mb(self.pid))
            except OSError:
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_until(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        threading.Event().wait(every)


def stop(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- a real X desktop -------------------------------------------------------------------------------------

def _root_has(display: str, prop: str) -> bool:
    out = subprocess.run(["xprop", "-display", display, "-root", prop], capture_output=True, text=True)
    return out.returncode == 0 and "not found" not in out.stdout and "no such atom" not in out.stdout


class XSession:
    """Xvfb (with RECORD, for pynput) + openbox (+ trayer for a system tray); stops everything it started."""

    def __init__(self, size: tuple[int, int] = (1920, 1080), *, tray: bool = False) -> None:
        self.size, self.tray = size, tray
        self.procs: list[subprocess.Popen[bytes]] = []
        self.display = ""

    def __enter__(self) -> XSession:
        for tool in ("Xvfb", "openbox", "xdotool", "xdpyinfo", "xprop", *(["trayer"] if self.tray else [])):
            if shutil.which(tool) is None:
                sys.exit(f"{tool} is not installed: run packaging/install.sh --dev")
        n = next(n for n in range(400, 600) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                 and not Path(f"/tmp/.X{n}-lock").exists())
        self.display = f":{n}"
        w, h = self.size
        self.procs.append(subprocess.Popen(["Xvfb", self.display, "-screen", "0", f"{w}x{h}x24", "+extension",
                                            "RECORD", "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))
        try:
            wait_until(lambda: subprocess.run(["xdpyinfo", "-display", self.display],
                                              capture_output=True).returncode == 0, 20, "Xvfb")
            self._start_wm()
            if self.tray:
                self.spawn(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width",
                            "100", "--height", "24"])
                wait_until(lambda: self.xdotool("search", "--name", "^panel$"), 20, "trayer's panel")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start_wm(self) -> None:
        for _ in range(5):  # openbox sometimes exits at once on a fresh Xvfb; a second start works
            wm = self.spawn(["openbox", "--sm-disable"])
            wait_until(lambda wm=wm: wm.poll() is not None or _root_has(self.display, "_NET_SUPPORTING_WM_CHECK"),
                       20, "openbox")
            if wm.poll() is None:
                return
        raise RuntimeError("openbox exited at start five times")

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}

    def spawn(self, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        env = {**self.env, **kw.pop("env", {})}
        proc = subprocess.Popen(argv, env=env, stdout=kw.pop("stdout", subprocess.DEVNULL),
                                stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
        self.procs.append(proc)
        return proc

    def xdotool(self, *args: str) -> str:
        out = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=30)
        return out.stdout.strip()

    def window(self, title: str, timeout: float = 20) -> str:
        """The id of the first visible window whose name is ``title`` (waits for it to be mapped)."""
        return wait_until(lambda: self.xdotool("search", "--onlyvisible", "--name", f"^{title}$").split("\n")[0],
                          timeout, f"window {title!r}")

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        self.procs.clear()


def named_items(boxes: list[Any], name: str) -> list[Any]:
    """The OCR items of a frame's text boxes (:func:`deskscribe.models.evidence.items`) that a step naming
    ``name`` quotes: the item itself, its readable part (models/readable.py) or an item holding it (a button
    of a row OCR read as one line)."""
    from deskscribe.models.evidence import items
    from deskscribe.models.readable import reading_part

    return [i for b in boxes for i in items(b) if reading_part(i.text) == name or i.text == name or name in i.text]

