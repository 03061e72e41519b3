"""Live describe benchmark: scripted sessions on Xvfb, captured with the defaults, described, scored against
the facts written beside each session (bench/live_sessions/sessions.py).

    .venv/bin/python bench/live_sessions/run.py [--only NAME ...] [--reuse] [--out NAME]

Per session: a fresh data folder, Xvfb + openbox, `deskscribe capture` (typed text not stored), the script
driven by xdotool, then `run_batch` with the default offline models. Reports fact recall, failed jobs,
degenerate steps and named-but-absent entities (models.check), and keeps each captured database under
bench/out/live/ so another version of describe can be run on the very same capture: install it apart and
run this file under it, from outside the checkout (else the checkout's package is imported), e.g.

    pip install --no-deps --target /tmp/base_site git+file:///path/to/checkout@BASE
    cd /tmp && PYTHONPATH=/tmp/base_site /path/to/.venv/bin/python /path/to/bench/live_sessions/run.py \
        --reuse --captures /path/to/bench/out/live --out live_describe_base

(``--reuse`` describes the kept captures again; the older version must know the captures' migrations).
Writes bench/results/<--out>.{json,md}.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "bench" / "out" / "live"
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # bench/: benchlib

from desktop import Desktop, session_bus, wait, x_server  # noqa: E402
from sessions import SESSIONS, Session  # noqa: E402


def record(session: Session, home: Path, stats: dict[str, Any]) -> float:
    """Capture one scripted session into ``home``; returns its length in seconds. The apps always have a
    session bus (AT-SPI); capture is given it only when ``session.a11y``, else it names widgets from pixels."""
    display, servers = x_server(*session.screen)
    address, bus = session_bus()
    work = home / "work"
    work.mkdir(parents=True)
    env = {**os.environ, "DISPLAY": display, "DESKSCRIBE_HOME": str(home)}
    env.pop("AT_SPI_BUS_ADDRESS", None)
    if session.a11y:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
    else:
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    desk = Desktop(display, home, work, address)
    capture = subprocess.Popen([sys.executable, "-m", "deskscribe", "capture", "--duration", "900"], env=env,
                               stdout=subprocess.DEVNULL, stderr=open(home / "capture.err", "wb"))
    start = time.time()
    try:
        wait(lambda: desk.frames_after(0), 30, "capture's first frame")
        session.script(desk)
        stats["no_frame"] = desk.no_frame
        stats["clicked"] = [dataclasses.asdict(c) for c in desk.clicked]
    finally:
        capture.terminate()
        capture.wait(timeout=60)
        desk.close()
        for proc in [*servers, bus]:
            proc.terminate()
            proc.wait(timeout=10)
        if bus.stdout:
            bus.stdout.close()
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


def score(session: Session, episodes: list[dict[str, Any]], home: Path | None = None,
          clicked: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Facts found in the text; each widget the script clicked named by a click step; each command output
    read by OCR on some frame of the session (the captions' OCR text, ``home``'s database)."""
    from deskscribe.models.evidence import norm
    from deskscribe.models.steps import is_degenerate

    text = norm(" ".join(" ".join([e["summary"], e.get("instruction") or "", *e["steps"]]) for e in episodes))
    found = [f for f in session.facts if norm(f) in text]
    steps = [s for e in episodes for s in e["steps"]]
    out = {"fact_recall": len(found) / len(session.facts), "missing": [f for f in session.facts if f not in found],
           "steps": len(steps), "degenerate": sum(is_degenerate(s) for s in steps),
           "absent": sum(len(e.get("absent", [])) for e in episodes),
           "flagged": sum(1 for e in episodes if e.get("review_reason"))}
    if clicked:  # named: a click step quotes the widget's name (not a row holding it: 'File Edit Search …')
        quoted = [norm(q) for s in steps if re.match(r"(?:Double-|Right-)?[Cc]licked ", s)
                  for q in re.findall(r"'([^']+)'", s)[:1]]
        named = [c["name"] for c in clicked if norm(c["name"]) in quoted]
        out.update(clicked=len(clicked), clicked_named=len(named),
                   clicked_unnamed=[c["name"] for c in clicked if c["name"] not in named])
        if home is not None and (home / "deskscribe.db").exists():
            right = in_box(home, clicked)
            out.update(clicked_in_box=sum(right), clicked_not_in_box=[c["name"] for c, r in zip(clicked, right) if not r])
    if session.outputs and home is not None:
        conn = sqlite3.connect(home / "deskscribe.db")  # the captions this version's OCR made, not another's
        read = norm(" ".join(r[0] or "" for r in conn.execute(
            "SELECT c.ocr_text FROM captions c JOIN model_runs r ON r.id = c.model_run_id"
            " WHERE json_extract(r.params, '$.ocr') = ?", (_ocr_run(),))))
        conn.close()
        out.update(outputs=len(session.outputs), outputs_read=sum(norm(o) in read for o in session.outputs),
                   outputs_unread=[o for o in session.outputs if norm(o) not in read])
    return out


def _ocr_run() -> str:
    """This version's OCR engine as its captions' model runs record it."""
    from deskscribe.config import Config
    from deskscribe.models.ocr_engine import engine_key

    return engine_key(Config().models.ocr_engine) or "?"


def in_box(home: Path, clicked: list[dict[str, Any]]) -> list[bool]:
    """Per widget the script clicked: its click step's named text (``evidence.target``) is an OCR item of the
    click's before frame whose centre lies inside the widget's box (AT-SPI extents at drive time) — the right
    one named, not only a name. Clicks pair with the recorded ones in order, by their point."""
    from benchlib import named_items
    from deskscribe.storage.actions import episode_actions
    from deskscribe.storage.boxes import decode
    from deskscribe.storage.db import open_db
    from deskscribe.storage.descriptions import current_description

    db = open_db(home / "deskscribe.db")
    boxes = dict(db.conn.execute(
        "SELECT f.id, c.ocr_boxes FROM frames f JOIN captions c ON c.image_hash = f.image_hash"
        " JOIN model_runs r ON r.id = c.model_run_id WHERE json_extract(r.params, '$.ocr') = ?", (_ocr_run(),)))
    steps: list[tuple[tuple[int, int], str | None, int | None]] = []  # each click step: point, target, frame
    for (episode,) in db.conn.execute("SELECT id FROM episodes ORDER BY id").fetchall():
        rows = {r["event_id"]: r for r in (current_description(db, episode) or {"step_rows": []})["step_rows"]}
        steps += [((r.event.x, r.event.y), rows[r.event_id]["evidence"].get("target"), r.before)  # type: ignore[attr-defined]
                  for r in episode_actions(db, episode) if r.kind == "click" and r.event_id in rows]
    db.conn.close()
    out = []
    for c in clicked:
        at = next((i for i, s in enumerate(steps) if s[0] == tuple(c["point"])), None)
        if at is None:
            out.append(False)
            continue
        (x, y), name, frame = steps.pop(at)
        decoded = decode(boxes.get(frame)) if name else None
        found = sorted(named_items(decoded[2] if decoded else [], name or ""),
                       key=lambda i: abs(i.x + i.w / 2 - x) + abs(i.y + i.h / 2 - y))
        bx, by, bw, bh = c["box"]
        out.append(bool(found) and bx <= found[0].x + found[0].w / 2 <= bx + bw
                   and by <= found[0].y + found[0].h / 2 <= by + bh)
    return out


def markdown(r: dict[str, Any]) -> str:
    lines = ["# Live describe benchmark (scripted Xvfb sessions, capture defaults: typed text not stored)", "",
             f"Machine: {r['machine']}. Models: default offline (OCR captions by {r.get('ocr_engine', '?')} + {r['text_model']}), "
             f"describe.compose = {r.get('compose', 'model')!r} (tasks written by: "
             f"{', '.join(sorted({s['describe'].get('compose', '?') for s in r['sessions']}))}).",
             "Facts per session are written beside its script in bench/live_sessions/sessions.py.", "",
             "| session | screen | tuned on | length | episodes | fact recall | widgets clicked, named "
             "| named text inside the clicked widget's box | outputs read "
             "| failed jobs | degenerate steps | named-but-absent | flagged for review |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in r["sessions"]:
        m = s["score"]
        clicks = f"{m['clicked_named']} of {m['clicked']}" if "clicked" in m else "–"
        boxed = f"{m['clicked_in_box']} of {m['clicked']}" if "clicked_in_box" in m else "–"
        outs = f"{m['outputs_read']} of {m['outputs']}" if "outputs" in m else "–"
        lines.append(f"| {s['name']} | {s.get('screen', '?')}{'' if s.get('a11y', True) else ', no AT-SPI'} | "
                     f"{'yes' if s['tuned_on'] else 'no'} | {s['seconds']:.0f} s | "
                     f"{len(s['describe']['episodes'])} | {m['fact_recall']:.2f} | {clicks} | {boxed} | {outs} | "
                     f"{len(s['describe']['failed'])} | {m['degenerate']} of {m['steps']} | {m['absent']} | "
                     f"{m['flagged']} |")
    for s in r["sessions"]:
        m = s["score"]
        lines += ["", f"## {s['name']}", "", f"Missing facts: {m['missing'] or 'none'}"
                  + (f"; widgets clicked but not named: {m['clicked_unnamed'] or 'none'}" if "clicked" in m else "")
                  + (f"; named text not inside the clicked widget's box: {m['clicked_not_in_box'] or 'none'}"
                     if "clicked_in_box" in m else "")
                  + (f"; outputs not read: {m['outputs_unread'] or 'none'}" if "outputs" in m else ""), ""]
        for e in s["describe"]["episodes"]:
            lines.append(f"- **{e['summary']}** — instruction: {e['instruction']}"
                         + (f" — flagged: {e['review_reason']}" if e["review_reason"] else ""))
            lines += [f"  - {step}" for step in e["steps"]]
    return "\n".join(lines) + "\n"


def rescore(name: str, captures: Path) -> None:
    """Score a results file's stored descriptions again (after the scoring changed), in place."""
    r = json.loads((RESULTS / f"{name}.json").read_text())
    by_name = {s.name: s for s in SESSIONS}
    for s in r["sessions"]:
        s["tuned_on"] = by_name[s["name"]].tuned_on
        s["score"] = score(by_name[s["name"]], s["describe"]["episodes"], captures / s["name"], s.get("clicked"))
    (RESULTS / f"{name}.json").write_text(json.dumps(r, indent=2))
    (RESULTS / f"{name}.md").write_text(markdown(r))
    print(markdown(r))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", default=None, help="session names to run")
    ap.add_argument("--reuse", action="store_true", help="describe the captures kept in bench/out/live again")
    ap.add_argument("--summarizer", default=None, help="another text model (name or GGUF path) than the default")
    ap.add_argument("--compose", default=None, help="describe.compose (default: the config's, auto)")
    ap.add_argument("--out", default="live_describe", help="result file name under bench/results/")
    ap.add_argument("--captures", type=Path, default=OUT, help="where the captured sessions are kept")
    ap.add_argument("--rescore", action="store_true", help="score the results file --out again (no describe)")
    args = ap.parse_args()
    if args.rescore:
        rescore(args.out, args.captures)
        return
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
            with sqlite3.connect(home / "deskscribe.db") as conn:
                conn.execute("PRAGMA foreign_keys = ON")  # a description's steps (and their flags) go with it
                for table in ("steps", "descriptions", "jobs"):  # steps left by a run without foreign keys too
                    conn.execute(f"DELETE FROM {table}")
        out: dict[str, Any] = {"name": session.name, "tuned_on": session.tuned_on, "seconds": seconds,
                               "screen": "×".join(map(str, session.screen)), "a11y": session.a11y, **stats}
        out["describe"] = describe(home, args.summarizer, args.compose)
        out["score"] = score(session, out["describe"]["episodes"], home, stats.get("clicked"))
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
