"""A day, simulated: scripted work on a real X desktop, captured by `deskscribe capture`, then described.

    .venv/bin/python bench/day_bench.py [--minutes 7] [--seed 1] [--modes sequential,overlap,evidence]

1. Xvfb 1920x1080 + openbox with two xterms (a shell, vim), xedit and xcalc. A scripted person works for
   ``--minutes``: types shell commands and reads their output, writes text in vim and xedit, pages through a
   document in less, clicks sums into xcalc, and sits still to read or think — all through xdotool, which the
   real capture process receives as input (pynput over RECORD), exactly as it would receive a person's.
2. `deskscribe capture` runs with the default settings the whole time, in a fresh data folder.
3. The captured database is described once per mode on a copy of it (`run_batch` with the default models:
   OCR captions + SmolLM2-135M), each in its own process: ``sequential`` (caption, then the model, one
   episode at a time), ``overlap`` (the model of episode N while N+1 is captioned, models/pipeline.py) and
   ``evidence`` (``describe.compose = "evidence"``: the task written from the steps, no text model; what the
   default, "auto", does with the bundled model).
4. While each describe runs, a second `deskscribe capture` records the same desktop (a clock-like xterm
   changes every second); its CPU use and frames stored are compared with a baseline period with no describe.

Reports per hour of capture: frames and MB stored, describe seconds (wall and CPU) — the ratio that says
whether a laptop keeps up (target ≤ 600 s per hour on 2 cores) — and capture's CPU while describe runs.
Writes bench/out/day_bench.{json,md} and copies them to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import benchlib as B

TARGET_S_PER_HOUR = 600
SIZE = (1920, 1080)
SHELL_COMMANDS = ["ls -la /usr/share/doc | head -40", "df -h", "ps aux | head -25", "cat /etc/os-release",
                  "grep -rn 'License' /usr/share/common-licenses | head -20", "python3 -c 'print(sum(range(100)))'",
                  "wc -l /usr/share/common-licenses/*", "date", "ls /usr/bin | head -60 | column -c 180",
                  "free -m", "uname -a", "history | tail -5"]
SENTENCES = ["Meeting notes for the quarterly review.", "Action items: send the invoice to the client by Friday.",
             "The build failed on the test server; rerun after the config fix.", "Budget total: 12,400 EUR.",
             "Call with the design team moved to Tuesday at 10.", "TODO: update the release checklist."]


class Person:
    """Works on the desktop through xdotool: the only input capture sees is what this sends."""

    def __init__(self, x: B.XSession, seed: int, stop: threading.Event) -> None:
        self.x, self.rng, self.stop = x, random.Random(seed), stop
        self.log: list[tuple[float, str]] = []

    def pause(self, lo: float, hi: float) -> None:
        self.stop.wait(self.rng.uniform(lo, hi))  # a person reading or thinking

    def focus(self, title: str) -> str:
        wid = self.x.window(title)
        self.x.xdotool("windowactivate", "--sync", wid)
        return wid

    def type(self, text: str) -> None:
        self.x.xdotool("type", "--delay", str(self.rng.randrange(60, 140)), text)

    def key(self, *keys: str) -> None:
        self.x.xdotool("key", "--delay", "120", *keys)

    def shell(self) -> None:
        self.focus("shell")
        self.type(self.rng.choice(SHELL_COMMANDS))
        self.key("Return")
        self.pause(4, 15)

    def vim(self) -> None:
        self.focus("notes")
        self.key("G", "o")
        self.type(self.rng.choice(SENTENCES))
        self.key("Escape")
        if self.rng.random() < 0.5:
            self.type(":w")
            self.key("Return")
        self.pause(3, 10)

    def xedit(self) -> None:
        wid = self.focus("xedit")
        self.x.xdotool("mousemove", "--window", wid, "300", "300", "click", "1")
        self.key("ctrl+e")
        self.type(" " + self.rng.choice(SENTENCES))
        self.pause(3, 10)

    def read(self) -> None:
        self.focus("shell")
        self.type("less /usr/share/common-licenses/GPL-3")
        self.key("Return")
        for _ in range(self.rng.randrange(2, 6)):
            self.pause(4, 12)
            self.key("space")
        self.key("q")

    def calc(self) -> None:
        wid = self.focus("Calculator")
        for _ in range(self.rng.randrange(4, 9)):
            self.x.xdotool("mousemove", "--window", wid, str(self.rng.randrange(20, 200)),
                           str(self.rng.randrange(90, 300)), "click", "1")
            self.stop.wait(self.rng.uniform(0.3, 1.2))
        self.pause(2, 6)

    def idle(self) -> None:
        self.pause(20, 70)  # away from the keyboard: capture stores nothing while the screen is still

    def run(self) -> None:
        # Weighted towards switching apps (each switch starts an episode, as in a working hour); the
        # reading pauses and idle spells leave the screen still, so capture stores nothing meanwhile.
        acts = [(self.shell, 4), (self.vim, 2), (self.xedit, 3), (self.read, 2), (self.calc, 2), (self.idle, 1)]
        while not self.stop.is_set():
            act = self.rng.choices([a for a, _ in acts], [w for _, w in acts])[0]
            self.log.append((time.monotonic(), act.__name__))
            try:
                act()
            except (RuntimeError, subprocess.TimeoutExpired) as exc:  # a window slow to map: note it, go on
                self.log.append((time.monotonic(), f"{act.__name__} failed: {exc}"))


def open_desktop(x: B.XSession, work: Path) -> None:
    notes = work / "notes.txt"
    notes.write_text("Notes\n")
    (work / "draft.txt").write_text("Draft letter\n")
    x.spawn(["xterm", "-xrm", "XTerm*allowTitleOps: false", "-T", "shell", "-geometry", "150x45+0+30"], cwd=str(work))
    x.spawn(["xterm", "-xrm", "XTerm*allowTitleOps: false", "-T", "notes", "-geometry", "100x30+900+40", "-e", "vim", "-u", "NONE", str(notes)])
    x.spawn(["xedit", "-name", "xedit", "-title", "xedit", "-geometry", "700x450+1000+560", str(work / "draft.txt")])
    x.spawn(["xcalc", "-geometry", "+600+650"])
    for title in ("shell", "notes", "xedit", "Calculator"):
        x.window(title)


def capture(x: B.XSession, home: Path, seconds: float) -> Any:
    home.mkdir(parents=True, exist_ok=True)
    return x.spawn([sys.executable, "-m", "deskscribe", "capture", "--duration", str(seconds)],
                   env={"DESKSCRIBE_HOME": str(home)})


def db_stats(path: Path) -> dict[str, Any]:
    con = sqlite3.connect(path)
    q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    out = {"frames": q("SELECT count(*) FROM frames"), "episodes": q("SELECT count(*) FROM episodes"),
           "image_mb": (q("SELECT coalesce(sum(bytes), 0) FROM images") or 0) / 1e6,
           "events": q("SELECT count(*) FROM events"), "db_file_mb": path.stat().st_size / 1e6}
    con.close()
    return out


def record_day(x: B.XSession, work: Path, minutes: float, seed: int) -> dict[str, Any]:
    seconds = minutes * 60
    home = work / "day"
    proc = capture(x, home, seconds + 15)
    B.wait_until(lambda: (home / "deskscribe.db").exists(), 60, "capture to open its database")
    stop = threading.Event()
    person = Person(x, seed, stop)
    worker = threading.Thread(target=person.run)
    c0, t0 = B.cpu_seconds(proc.pid), time.monotonic()
    worker.start()
    stop.wait(seconds)
    stop.set()
    worker.join()
    c1, t1 = B.cpu_seconds(proc.pid), time.monotonic()
    proc.wait(timeout=120)
    acts: dict[str, int] = {}
    for _, name in person.log:
        acts[name] = acts.get(name, 0) + 1
    return {"seconds": t1 - t0, "capture_cpu_percent": 100 * (c1 - c0) / (t1 - t0), "activities": acts,
            "db": str(home / "deskscribe.db"), **db_stats(home / "deskscribe.db")}


def describe_child(db_path: str, mode: str, first: int, last: int) -> None:
    """Runs in its own process: one describe batch on ``db_path``; prints its figures as JSON."""
    import os

    from deskscribe.config import Config
    from deskscribe.models.describe import run_batch
    from deskscribe.storage.db import open_db

    db = open_db(db_path)
    c0, t0 = time.process_time(), time.perf_counter()
    episodes = [r[0] for r in db.conn.execute("SELECT id FROM episodes WHERE id BETWEEN ? AND ? ORDER BY id",
                                               (first, last))]
    res = run_batch(db, Config(), episodes, overlap=mode == "overlap",
                    compose="evidence" if mode == "evidence" else "model")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t = res.timers
    flagged = db.conn.execute("SELECT count(*) FROM descriptions WHERE review_reason IS NOT NULL").fetchone()[0]
    print(json.dumps({"mode": mode, "wall_s": wall, "cpu_s": cpu, "episodes": res.total, "done": len(res.done),
                      "flagged": flagged,
                      "failed": len(res.failed), "ocr_s": t.ocr_s, "llm_s": t.llm_s, "captions": t.captions,
                      "cache_hits": t.cache_hits, "llm_calls": t.llm_calls, "pid_threads_budget": os.cpu_count()}))


def span(db: Path, first: int, last: int) -> dict[str, Any]:
    """Episodes ``first``..``last`` of the day: their frames, and the capture time they stand for (from the
    start of ``first`` to the start of the episode after ``last``, or the end of ``last``)."""
    con = sqlite3.connect(db)
    t0 = con.execute("SELECT start_ts FROM episodes WHERE id = ?", (first,)).fetchone()[0]
    nxt = con.execute("SELECT min(start_ts) FROM episodes WHERE id > ?", (last,)).fetchone()[0]
    t1 = nxt or con.execute("SELECT end_ts FROM episodes WHERE id = ?", (last,)).fetchone()[0]
    frames = con.execute("SELECT count(*) FROM frames f JOIN episodes e ON e.id = f.episode_id WHERE e.id BETWEEN"
                         " ? AND ?", (first, last)).fetchone()[0]
    n = con.execute("SELECT count(*) FROM episodes WHERE id BETWEEN ? AND ?", (first, last)).fetchone()[0]
    con.close()
    return {"first": first, "last": last, "episodes": n, "frames": frames, "capture_s": t1 - t0}


def monitored_describe(x: B.XSession, work: Path, src: Path, modes: list[str], episodes: tuple[int, int],
                       seconds: float = 40) -> dict[str, Any]:
    """Capture CPU % and frames while ``modes`` describe copies of ``src`` at once (none: a baseline).

    The modes run side by side, so each sees the same load on a shared machine (a fair comparison of the
    two), and capture is measured beside all of them.
    """
    home = work / f"watch-{'-'.join(modes) or 'baseline'}"
    ticker = x.spawn(["xterm", "-T", "ticker", "-geometry", "60x10+1300+40", "-e", "sh", "-c",
                      "while true; do date +%T.%N; sleep 1; done"])
    watch = capture(x, home, 3 * 3600)
    B.wait_until(lambda: (home / "deskscribe.db").exists(), 60, "capture to open its database")
    threading.Event().wait(5)  # past capture's start-up
    c0, t0 = B.cpu_seconds(watch.pid), time.monotonic()
    f0 = db_stats(home / "deskscribe.db")["frames"]
    result: dict[str, Any] = {"mode": " + ".join(modes) or "no describe", "runs": []}
    if not modes:
        threading.Event().wait(seconds)
    procs = []
    for mode in modes:
        copy = work / f"describe-{mode}.db"
        with sqlite3.connect(src) as s, sqlite3.connect(copy) as d:
            s.backup(d)
        procs.append((mode, subprocess.Popen(
            [sys.executable, __file__, "_describe", str(copy), mode, str(episodes[0]), str(episodes[1])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**x.env, "DESKSCRIBE_HOME": str(work / f"describe-home-{mode}")})))
    try:
        for mode, proc in procs:
            out, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"describe ({mode}) failed:\n{err[-3000:]}")
            result["runs"].append(json.loads(out.strip().splitlines()[-1]))
    finally:  # interrupted or failed: no describe is left running
        for _mode, proc in procs:
            B.stop(proc)
    c1, t1 = B.cpu_seconds(watch.pid), time.monotonic()
    f1 = db_stats(home / "deskscribe.db")["frames"]
    B.stop(watch)
    B.stop(ticker)
    result.update(capture_seconds=t1 - t0, capture_cpu_percent=100 * (c1 - c0) / (t1 - t0),
                  capture_frames_per_min=(f1 - f0) / ((t1 - t0) / 60))
    return result


def keep(folder: Path, db: Path, day: dict[str, Any]) -> None:
    """Keep the captured database and its figures, so describe can be re-measured without capturing again."""
    folder.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db) as s, sqlite3.connect(folder / "deskscribe.db") as d:
        s.backup(d)
    (folder / "day.json").write_text(json.dumps(day))


def markdown(res: dict[str, Any]) -> str:
    day, c = res["day"], res["conditions"]
    hours = day["seconds"] / 3600
    lines = [
        "# A day, simulated: capture then describe",
        "",
        f"Conditions: {B.conditions_line(c)}. Xvfb {SIZE[0]}×{SIZE[1]}, openbox; a scripted person (seed "
        f"{res['seed']}) worked {day['seconds'] / 60:.1f} min in two xterms (shell, vim), xedit and xcalc through "
        f"xdotool ({', '.join(f'{k} ×{v}' for k, v in sorted(day['activities'].items()))}); `deskscribe capture` "
        "at the default settings (2 s interval, JPEG q80, native size). Describe: default models (OCR captions "
        f"by `{res.get('ocr_engine', '?')}`, SmolLM2-135M Q4_1), `models.n_threads = 0` (all cores), cold caption cache, each mode on its "
        "own copy of the database in its own process. Command: "
        f"`python bench/day_bench.py --minutes {res['minutes']} --seed {res['seed']}"
        + (f" --episodes {res['episodes_arg']}" if res.get("episodes_arg") else "")
        + (" --side-by-side" if res.get("side_by_side") else "") + "`.",
        "",
        "| captured | in this run | per hour of capture |",
        "|---|---|---|",
        f"| frames stored | {day['frames']} | {day['frames'] / hours:.0f} |",
        f"| episodes | {day['episodes']} | {day['episodes'] / hours:.0f} |",
        f"| image MB stored | {day['image_mb']:.1f} | {day['image_mb'] / hours:.0f} |",
        f"| database file MB | {day['db_file_mb']:.1f} | {day['db_file_mb'] / hours:.0f} |",
        f"| capture CPU % (of one core) while the person worked | {day['capture_cpu_percent']:.1f} | |",
        "",
        f"| describe mode | wall s | describe s per hour of capture (target ≤ {TARGET_S_PER_HOUR}) | CPU s per hour "
        "| cores it got (CPU s ÷ wall s) | OCR s per frame | LLM s per episode | episodes done / failed | "
        "model's task rejected by the check (flagged) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    sp = res["span"]
    dh = sp["capture_s"] / 3600  # the capture time the described episodes stand for
    lines[-2:-2] = [f"Described: episodes {sp['first']}–{sp['last']} of the day ({sp['episodes']} episodes, "
                    f"{sp['frames']} frames, standing for {sp['capture_s']:.0f} s of capture); \"per hour\" below "
                    "is per hour of that capture." + (" The modes ran side by side, so both saw the same load."
                                                      if res.get("side_by_side") else ""), ""]
    for d in res["describe"]:
        ocr = d["ocr_s"] / d["captions"] if d["captions"] else 0
        llm = d["llm_s"] / d["episodes"] if d["episodes"] else 0
        verdict = "meets" if d["wall_s"] / dh <= TARGET_S_PER_HOUR else "MISSES"
        lines.append(f"| {d['mode']} | {d['wall_s']:.0f} | **{d['wall_s'] / dh:.0f}** ({verdict}) | "
                     f"{d['cpu_s'] / dh:.0f} | {d['cpu_s'] / d['wall_s']:.2f} | {ocr:.2f} | {llm:.2f} | "
                     f"{d['done']} / {d['failed']} | {d.get('flagged', '–')} |")
    lines += ["", "Capture beside describe (a second `deskscribe capture` on the same desktop, an xterm clock "
              "changing every second):", "",
              "| while | seconds | capture CPU % | frames stored per minute |", "|---|---|---|---|"]
    for w in res["watch"]:
        lines.append(f"| {w['mode']} | {w['capture_seconds']:.0f} | {w['capture_cpu_percent']:.1f} | "
                     f"{w['capture_frames_per_min']:.1f} |")
    lines += ["", "OCR seconds are per captioned frame (change-only OCR, the default: the first frame of an "
              "episode is read whole, each later one only where it changed, models/ocr_diff.py). "
              "`sequential`: caption an episode, then run the model on it, then the next. `overlap` "
              "(the default with 4+ threads; not on these 2 cores): the model of episode N runs in a worker thread at background priority "
              "(nice 19) while episode N+1 is captioned with the full thread budget (models/pipeline.py), so "
              "OCR + LLM seconds can exceed the wall time. `evidence` (`describe.compose = \"evidence\"`): "
              "captioned as in `sequential`, the task written from the evidence steps, no text model — what "
              "the default, `describe.compose = \"auto\"`, does with the bundled SmolLM2-135M (a model the "
              "person chooses writes the task, as in `sequential`).", ""]
    if res.get("capture_conditions"):
        lines += [f"The day was captured earlier ({B.conditions_line(res['capture_conditions'])}) and kept; "
                  "describe ran in this run.", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=7.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--modes", default="sequential,overlap,evidence")
    ap.add_argument("--baseline-s", type=float, default=40.0)
    ap.add_argument("--keep", type=Path, default=Path("/tmp/deskscribe-day-keep"),
                    help="where the captured database and its figures are kept")
    ap.add_argument("--episodes", default="", metavar="A-B",
                    help="describe only episodes A..B of the day (per hour = their share of the capture time)")
    ap.add_argument("--side-by-side", action="store_true",
                    help="run the describe modes at the same time (same machine load for each)")
    ap.add_argument("--from-kept", action="store_true",
                    help="skip capturing: describe the database an earlier run kept in --keep")
    args = ap.parse_args()
    from deskscribe.config import Config
    from deskscribe.models.ocr_engine import engine_key

    res: dict[str, Any] = {"conditions": B.conditions(screen=f"{SIZE[0]}x{SIZE[1]}"), "minutes": args.minutes,
                           "seed": args.seed, "side_by_side": args.side_by_side, "episodes_arg": args.episodes,
                           "ocr_engine": engine_key(Config().models.ocr_engine)}
    with tempfile.TemporaryDirectory(prefix="deskscribe-day-") as tmp, B.XSession(SIZE) as x:
        work = Path(tmp)
        open_desktop(x, work)
        if args.from_kept:
            day = json.loads((args.keep / "day.json").read_text())
            day["db"] = str(args.keep / "deskscribe.db")
            res.update(minutes=day.get("minutes", args.minutes), seed=day.get("seed", args.seed),
                       capture_conditions=day.get("conditions"))
        else:
            day = record_day(x, work, args.minutes, args.seed)
            keep(args.keep, Path(day["db"]), {**day, "minutes": args.minutes, "seed": args.seed,
                                               "conditions": res["conditions"]})
        res["day"] = day
        print(json.dumps(day), file=sys.stderr)
        first, last = (int(v) for v in args.episodes.split("-")) if args.episodes else (1, day["episodes"])
        res["span"] = span(Path(day["db"]), first, last)
        res["watch"] = [monitored_describe(x, work, Path(day["db"]), [], (first, last), args.baseline_s)]
        modes = args.modes.split(",")
        groups = [modes] if args.side_by_side else [[m] for m in modes]
        res["describe"] = []
        for group in groups:
            w = monitored_describe(x, work, Path(day["db"]), group, (first, last))
            print(json.dumps(w), file=sys.stderr)
            res["describe"] += w.pop("runs")
            res["watch"].append(w)
    B.write("day_bench", res, markdown)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_describe":
        describe_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
