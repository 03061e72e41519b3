"""Memory of the long-running processes: `deskscribe capture` alone, and `deskscribe tray` with its capture child.

    .venv/bin/python bench/memory_bench.py [--seconds 60]

Real processes on Xvfb 1920x1080 with openbox and a system tray (trayer), an xterm whose text changes every
second (so capture stores frames and the tray refreshes its counts). RSS is sampled from /proc every 0.5 s
after start-up; the report gives the median and the peak of the samples and the kernel's VmHWM (peak RSS
over the process's life, start-up included). Writes bench/out/memory_bench.{json,md}, copied to bench/results/.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import benchlib as B


def summary(samples: list[float], hwm: float) -> dict[str, float]:
    return {"median_mb": statistics.median(samples), "max_sampled_mb": max(samples), "vm_hwm_mb": hwm,
            "samples": len(samples)}


def watch(pid: int, seconds: float) -> tuple[list[float], float]:
    with B.Sampler(pid) as s:
        threading.Event().wait(seconds)
        hwm = B.status_mb(pid, "VmHWM")
    return s.samples, hwm


def capture_alone(x: B.XSession, home: Path, seconds: float) -> dict[str, Any]:
    proc = x.spawn([sys.executable, "-m", "deskscribe", "capture"], env={"DESKSCRIBE_HOME": str(home)})
    try:
        B.wait_until(lambda: (home / "deskscribe.db").exists(), 60, "capture to open its database")
        threading.Event().wait(5)  # past start-up: imports, first frame
        samples, hwm = watch(proc.pid, seconds)
    finally:
        B.stop(proc)
    return summary(samples, hwm)


def tray_with_capture(x: B.XSession, home: Path, seconds: float) -> dict[str, Any]:
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "tray-stdout.log").open("w")
    proc = x.spawn([sys.executable, "-m", "deskscribe", "-v", "tray"], env={"DESKSCRIBE_HOME": str(home),
                   "QT_QPA_PLATFORM": "xcb"}, stdout=log, stderr=subprocess.STDOUT)
    try:
        B.wait_until(lambda: "tray icon shown" in (home / "tray-stdout.log").read_text() or proc.poll() is not None,
                     60, "the tray icon")
        if proc.poll() is not None:
            raise RuntimeError("deskscribe tray exited:\n" + (home / "tray-stdout.log").read_text()[-2000:])
        child = B.wait_until(lambda: B.children(proc.pid), 60, "the tray to start capture")[0]
        B.wait_until(lambda: (home / "deskscribe.db").exists(), 60, "capture to open its database")
        threading.Event().wait(5)
        with B.Sampler(child) as cs:
            tray_samples, tray_hwm = watch(proc.pid, seconds)
            child_hwm = B.status_mb(child, "VmHWM")
    finally:
        B.stop(proc)
        log.close()
    return {"tray": summary(tray_samples, tray_hwm), "capture_child": summary(cs.samples, child_hwm)}


def markdown(r: dict[str, Any]) -> str:
    rows = [("`deskscribe capture` (alone)", r["capture"]), ("`deskscribe tray`", r["tray"]["tray"]),
            ("its `deskscribe capture` child", r["tray"]["capture_child"])]
    return "\n".join([
        "# Memory of capture and the tray",
        "",
        f"Conditions: {B.conditions_line(r['conditions'])}. Real processes on Xvfb 1920×1080 + openbox + trayer "
        "(system tray), default settings, an xterm changing every second; RSS sampled every 0.5 s for "
        f"{r['seconds']:.0f} s after a 5 s start-up. Command: `python bench/memory_bench.py --seconds {r['seconds']:.0f}`.",
        "",
        "| process | RSS median MB | RSS max sampled MB | VmHWM (life peak) MB | samples |",
        "|---|---|---|---|---|",
        *[f"| {name} | {m['median_mb']:.0f} | {m['max_sampled_mb']:.0f} | {m['vm_hwm_mb']:.0f} | {m['samples']} |"
          for name, m in rows],
        "",
        "RSS counts shared libraries (Qt, Python) in full, so the tray and its capture child together use less "
        "physical memory than the sum.",
        "",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    res: dict[str, Any] = {"conditions": B.conditions(), "seconds": args.seconds}
    with tempfile.TemporaryDirectory(prefix="deskscribe-mem-") as tmp, B.XSession((1920, 1080), tray=True) as x:
        x.spawn(["xterm", "-T", "ticker", "-geometry", "100x40+0+30", "-e", "sh", "-c",
                 "while true; do date +%T.%N; ls -la /usr/bin | shuf -n 20; sleep 1; done"])
        x.window("ticker")
        res["capture"] = capture_alone(x, Path(tmp) / "capture", args.seconds)
        res["tray"] = tray_with_capture(x, Path(tmp) / "tray", args.seconds)
    B.write("memory_bench", res, markdown)


if __name__ == "__main__":
    main()
