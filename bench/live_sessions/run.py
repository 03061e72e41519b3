"""Live describe benchmark: scripted sessions on Xvfb, captured with the defaults, described, scored against
the facts written beside each session (bench/live_sessions/sessions.py).

    .venv/bin/python bench/live_sessions/run.py [--only NAME ...] [--baseline-site DIR]

Per session: a fresh data folder, Xvfb + openbox, `deskscribe capture` (typed text not stored), the script
driven by xdotool, then `run_batch` with the default offline models. Reports fact recall, failed jobs,
degenerate steps and named-but-absent entities (models.check), and keeps each captured database under
bench/out/live/ so another version of describe can be run on the very same capture (``--baseline-site``:
a folder with another deskscribe installed by `pip install --target`, run as a subprocess on a copy).
Writes bench/results/live_describe.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "bench" / "out" / "live"
RESULTS = REPO / "bench" / "results"
TYPE_DELAY_MS = 150  # between keystrokes: about a person's typing speed (≈ 70 words a minute)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sessions import SESSIONS, Session  # noqa: E402


def wait(predicate: Any, timeout: float, what: str) -> Any:
    """Poll a condition of another process (X server, capture database): nothing to block on."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


class Desktop:
    """Drives real apps on one X display with xdotool; waits for capture to store a frame after each action."""

    def __init__(self, display: str, home: Path, work: Path) -> None:
        # the apps get a fresh home (no session to restore, no config of the person running the bench)
        self.env = {**os.environ, "DISPLAY": display, "HOME": str(work), "XDG_CONFIG_HOME": str(work / ".config"),
                    "XDG_DATA_HOME": str(work / ".local"), "XDG_CACHE_HOME": str(work / ".cache")}
        self.home, self.work = home, work
        self.procs: list[subprocess.Popen[bytes]] = []
        self.no_frame = 0  # actions after which capture stored no frame

    def xdo(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, check=True).stdout

    def _start(self, argv: list[str], search: list[str]) -> str:
        t0 = time.time()
        self.procs.append(subprocess.Popen(argv, env=self.env, cwd=self.work, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))
        win = self.xdo("search", "--sync", *search).split()[0]
        self.xdo("windowactivate", "--sync", win)
        self.settle(t0)
        return win

    def frames_after(self, ts: float) -> int:
        try:
            conn = sqlite3.connect(f"file:{self.home / 'deskscribe.db'}?mode=ro", uri=True, timeout=10)
            try:
                return conn.execute("SELECT count(*) FROM frames WHERE ts > ?", (ts,)).fetchone()[0]
            finally:
                conn.close()
        except sqlite3.OperationalError:
            return 0

    def settle(self, since: float) -> None:
        """Wait until capture stored a frame taken after an action began (what it left on screen); an action
        that changed nothing stores none, so after a bounded wait the script goes on."""
        try:
            wait(lambda: self.frames_after(since + 0.2), 10, "a frame after the action")
        except TimeoutError:
            self.no_frame += 1

    def xterm(self, title: str) -> str:
        return self._start(["xterm", "-T", title, "-geometry", "100x30+20+20", "-fa", "DejaVu Sans Mono",
                            "-fs", "12", "-e", "bash"], ["--name", f"^{title}$"])

    def mousepad(self) -> str:
        return self._start(["mousepad", "--disable-server"], ["--onlyvisible", "--class", "mousepad"])

    def xcalc(self) -> str:
        return self._start(["xcalc"], ["--class", "xcalc"])

    def type(self, win: str, text: str) -> None:
        t0 = time.time()
        self.xdo("windowactivate", "--sync", win)
        self.xdo("type", "--delay", str(TYPE_DELAY_MS), text)
        self.settle(t0)

    def key(self, win: str, combo: str) -> None:
        t0 = time.time()
        self.xdo("windowactivate", "--sync", win)
        self.xdo("key", combo)
        self.settle(t0)

    def type_line(self, win: str, text: str) -> None:
        """A line and Enter, without waiting in between (as a person types a command)."""
        t0 = time.time()
        self.xdo("windowactivate", "--sync", win)
        self.xdo("type", "--delay", str(TYPE_DELAY_MS), text)
        self.xdo("key", "Return")
        self.settle(t0)

    def save_as(self, win: str, name: str) -> None:
        """Ctrl+S, type the file name into the "Save As" dialog (it opens in the working folder), Enter."""
        self.key(win, "ctrl+s")
        dialog = self.xdo("search", "--sync", "--name", "^Save As$").split()[0]
        t0 = time.time()
        self.xdo("windowactivate", "--sync", dialog)
        self.xdo("key", "ctrl+a")
        self.xdo("type", "--delay", str(TYPE_DELAY_MS), name)
        self.settle(t0)
        t0 = time.time()
        for _ in range(3):  # GTK's name completion can swallow the first Enter
            self.xdo("key", "Return")
            try:
                wait(lambda: (self.work / name).exists(), 5, f"{name} to be saved")
                break
            except TimeoutError:
                continue
        self.settle(t0)

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def x_server(width: int = 1280, height: int = 800) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """Xvfb on a display number it picks itself (-displayfd: never someone else's display) + openbox."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
                             "+extension", "RECORD", "-nolisten", "tcp"], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as fh:
        display = ":" + fh.readline().strip()
    env = {**os.environ, "DISPLAY": display}
    wait(lambda: subprocess.run(["xdpyinfo"], env=env, capture_output=True).returncode == 0, 20, "Xvfb")
    wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def managed() -> bool:
        nonlocal wm
        if wm.poll() is not None:  # openbox can exit at start on a loaded machine: say why, start it again
            print(f"openbox exited ({wm.returncode}): {wm.stderr.read().decode(errors='replace')[-300:] if wm.stderr else ''}",
                  file=sys.stderr)
            wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True,
                              text=True).stdout.count("window id") > 0

    wait(managed, 60, "openbox")
    return display, [wm, xvfb]


def record(session: Session, home: Path, stats: dict[str, Any]) -> float:
    """Capture one scripted session into ``home``; returns its length in seconds."""
    display, servers = x_server()
    work = home / "work"
    work.mkdir(parents=True)
    env = {**os.environ, "DISPLAY": display, "DESKSCRIBE_HOME": str(home)}
    capture = subprocess.Popen([sys.executable, "-m", "deskscribe", "capture", "--duration", "900"], env=env,
                               stdout=subprocess.DEVNULL, stderr=open(home / "capture.err", "wb"))
    desk = Desktop(display, home, work)
    start = time.time()
    try:
        wait(lambda: desk.frames_after(0), 30, "capture's first frame")
        session.script(desk)
        stats["no_frame"] = desk.no_frame
    finally:
        capture.terminate()
        capture.wait(timeout=60)
        desk.close()
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=10)
    return time.time() - start


def describe(home: Path, summarizer: str | None = None, compose: str | None = None) -> dict[str, Any]:
    """Run describe with the default offline models; per episode the stored text and its checks."""
    os.environ["DESKSCRIBE_HOME"] = str(home)
    from deskscribe.config import Config
    from deskscribe.models.check import absent
    from deskscribe.models.describe import Describer, open_captioner, open_text, run_batch
    from deskscribe.models.steps import is_degenerate
    from deskscribe.storage.db import open_db
    from deskscribe.storage.descriptions import current_description

    db = open_db(home / "deskscribe.db")
    cfg = Config()
    if summarizer:
        cfg.models.summarizer = summarizer
    if compose:
        cfg.describe.compose = compose
    res = run_batch(db, cfg)
    text, captioner = open_text(cfg), open_captioner(cfg)
    describer = Describer(db, cfg, text, captioner)
    episodes = []
    for (ep,) in db.conn.execute("SELECT id FROM episodes ORDER BY id").fetchall():
        desc = current_description(db, ep)
        if desc is None:
            continue
        _frames, _actions, _steps, facts, corpus = describer.evidence(ep)
        written = " ".join([desc["summary"], desc.get("instruction") or ""])
        episodes.append({"episode": ep, "summary": desc["summary"], "instruction": desc.get("instruction"),
                         "steps": desc["steps"], "review_reason": desc.get("review_reason"),
                         "degenerate": [s for s in desc["steps"] if is_degenerate(s)],
                         "absent": absent(written + " " + " ".join(desc["steps"]), corpus, facts.apps)})
    text.close()
    captioner.close()
    db.conn.close()
    return {"failed": res.failed, "episodes": episodes, "ocr_s": res.timers.ocr_s, "llm_s": res.timers.llm_s,
            "llm_calls": res.timers.llm_calls, "model": cfg.models.summarizer, "compose": res.compose,
            "frames": res.timers.captions + res.timers.cache_hits}


def baseline(home: Path, site: Path) -> dict[str, Any]:
    """Another deskscribe version (installed under ``site``) on a copy of the same capture: its stored text."""
    copy = Path(tempfile.mkdtemp(prefix="live-baseline-"))
    src, dst = sqlite3.connect(home / "deskscribe.db"), sqlite3.connect(copy / "deskscribe.db")
    src.backup(dst)  # with what is still in the WAL file
    src.close()
    dst.close()
    with sqlite3.connect(copy / "deskscribe.db") as conn:  # an older version refuses migrations it lacks;
        known = {"001_initial", "002_caption_ocr_boxes"}  # the added columns and tables do not bother it
        conn.execute(f"DELETE FROM _migrations WHERE name NOT IN ({', '.join('?' * len(known))})", tuple(known))
    env = {**os.environ, "DESKSCRIBE_HOME": str(copy), "PYTHONPATH": str(site)}
    # run outside the checkout: `python -m` puts the working folder first on sys.path
    proc = subprocess.run([sys.executable, "-m", "deskscribe", "describe", "--progress", "none"], env=env,
                          capture_output=True, text=True, cwd=copy)
    conn = sqlite3.connect(copy / "deskscribe.db")
    rows = conn.execute("SELECT episode_id, summary, steps FROM descriptions WHERE is_current = 1").fetchall()
    error = proc.stderr.strip().splitlines()[-1:] if proc.returncode else []
    failed = conn.execute("SELECT count(*) FROM jobs WHERE state = 'failed'").fetchone()[0]
    conn.close()
    shutil.rmtree(copy, ignore_errors=True)
    return {"failed": failed, "exit": proc.returncode, "error": error,
            "episodes": [{"episode": r[0], "summary": r[1], "steps": json.loads(r[2])} for r in rows]}


def score(session: Session, episodes: list[dict[str, Any]]) -> dict[str, Any]:
    from deskscribe.models.evidence import norm
    from deskscribe.models.steps import is_degenerate

    text = norm(" ".join(" ".join([e["summary"], e.get("instruction") or "", *e["steps"]]) for e in episodes))
    found = [f for f in session.facts if norm(f) in text]
    steps = [s for e in episodes for s in e["steps"]]
    return {"fact_recall": len(found) / len(session.facts), "missing": [f for f in session.facts if f not in found],
            "steps": len(steps), "degenerate": sum(is_degenerate(s) for s in steps),
            "absent": sum(len(e.get("absent", [])) for e in episodes),
            "flagged": sum(1 for e in episodes if e.get("review_reason"))}


def markdown(r: dict[str, Any]) -> str:
    lines = ["# Live describe benchmark (scripted Xvfb sessions, capture defaults: typed text not stored)", "",
             f"Machine: {r['machine']}. Models: default offline (OCR captions by {r.get('ocr_engine', '?')} + {r['text_model']}), "
             f"describe.compose = {r.get('compose', 'model')!r} (tasks written by: "
             f"{', '.join(sorted({s['describe'].get('compose', '?') for s in r['sessions']}))}).",
             "Facts per session are written beside its script in bench/live_sessions/sessions.py.", "",
             "| session | tuned on | length | episodes | fact recall | failed jobs | degenerate steps | "
             "named-but-absent | flagged for review | LLM s per call |", "|---|---|---|---|---|---|---|---|---|---|"]
    for s in r["sessions"]:
        m = s["score"]
        lines.append(f"| {s['name']} | {'yes' if s['tuned_on'] else 'no'} | {s['seconds']:.0f} s | "
                     f"{len(s['describe']['episodes'])} | {m['fact_recall']:.2f} | {len(s['describe']['failed'])} | "
                     f"{m['degenerate']} of {m['steps']} | {m['absent']} | {m['flagged']} | "
                     f"{s['describe']['llm_s'] / max(s['describe'].get('llm_calls', 0), 1):.1f} |")
        if s.get("baseline_score"):
            b = s["baseline_score"]
            lines.append(f"| {s['name']}, before (base commit) | | | {len(s['baseline']['episodes'])} | "
                         f"{b['fact_recall']:.2f} | {s['baseline']['failed']} | {b['degenerate']} of {b['steps']} "
                         "| – | – | |")
    for s in r["sessions"]:
        lines += ["", f"## {s['name']}", "", f"Missing facts: {s['score']['missing'] or 'none'}", ""]
        for e in s["describe"]["episodes"]:
            lines.append(f"- **{e['summary']}** — instruction: {e['instruction']}"
                         + (f" — flagged: {e['review_reason']}" if e["review_reason"] else ""))
            lines += [f"  - {step}" for step in e["steps"]]
        for e in s.get("baseline", {}).get("episodes", []):
            lines.append(f"- before: {e['summary']} — steps: {e['steps']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", default=None, help="session names to run")
    ap.add_argument("--baseline-site", type=Path, default=None, help="another deskscribe, for the 'before' row")
    ap.add_argument("--reuse", action="store_true", help="describe the captures kept in bench/out/live again")
    ap.add_argument("--summarizer", default=None, help="another text model (name or GGUF path) than the default")
    ap.add_argument("--compose", default=None, help="describe.compose (default: the config's, auto)")
    ap.add_argument("--out", default="live_describe", help="result file name under bench/results/")
    ap.add_argument("--captures", type=Path, default=OUT, help="where the captured sessions are kept")
    args = ap.parse_args()
    from deskscribe.config import Config

    results = []
    for session in SESSIONS:
        if args.only and session.name not in args.only:
            continue
        home = args.captures / session.name
        seconds, stats = 0.0, {}
        if not (args.reuse and (home / "deskscribe.db").exists()):
            shutil.rmtree(home, ignore_errors=True)
            seconds = record(session, home, stats)
            (home / "recorded.json").write_text(json.dumps({"seconds": seconds, **stats}))
        else:
            kept = json.loads((home / "recorded.json").read_text()) if (home / "recorded.json").exists() else {}
            seconds = float(kept.pop("seconds", 0.0))
            stats = kept
            for table in ("steps", "descriptions", "jobs"):  # steps: each description's rows
                with sqlite3.connect(home / "deskscribe.db") as conn:
                    conn.execute(f"DELETE FROM {table}")
        out: dict[str, Any] = {"name": session.name, "tuned_on": session.tuned_on, "seconds": seconds, **stats}
        if args.baseline_site:
            out["baseline"] = baseline(home, args.baseline_site)
            out["baseline_score"] = score(session, out["baseline"]["episodes"])
        out["describe"] = describe(home, args.summarizer, args.compose)
        out["score"] = score(session, out["describe"]["episodes"])
        results.append(out)
        print(json.dumps({session.name: out["score"]}))
    from deskscribe.models.ocr_engine import engine_key

    r = {"sessions": results, "text_model": args.summarizer or Config().models.summarizer,
         "compose": args.compose or Config().describe.compose,
         "ocr_engine": engine_key(Config().models.ocr_engine),
         "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(r, indent=2))
    (RESULTS / f"{args.out}.md").write_text(markdown(r))
    print(markdown(r))


if __name__ == "__main__":
    main()
