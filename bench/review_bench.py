"""How long the review window takes to open on a large database (10k episodes, 100k frames).

Run: /tmp/venv/bin/python bench/review_bench.py  [--episodes N --frames-per-episode K --runs R]
Writes bench/out/review_bench.{json,md}. Target: open + first page shown <= 0.5 s.
Each run opens the database fresh and builds a new window (offscreen Qt), as `deskscribe review` does.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from deskscribe.storage import review  # noqa: E402
from deskscribe.storage.db import open_db  # noqa: E402
from synthetic import fill_synthetic  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
TARGET_S = 0.5


def tiny_image() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (40, 110, 180)).save(buf, "PNG")
    return buf.getvalue()


def open_window(app: QApplication, path: Path) -> dict[str, float]:
    from deskscribe.app.review_window import ReviewWindow

    t0 = time.perf_counter()
    db = open_db(path)
    t1 = time.perf_counter()
    window = ReviewWindow(db)
    t2 = time.perf_counter()
    window.show()
    app.processEvents()  # first paint of the table with its first page
    t3 = time.perf_counter()
    assert window.model.rowCount() == review.PAGE_SIZE, window.model.rowCount()
    deadline = time.monotonic() + 30
    while window.frames.thumbnails_loaded() < len(window.frames.frames) and time.monotonic() < deadline:
        app.processEvents()
    t4 = time.perf_counter()
    window.model.fetchMore()
    t5 = time.perf_counter()
    window.close()
    window.loader.shutdown()
    db.conn.close()
    return {"open_db_s": t1 - t0, "build_window_s": t2 - t1, "first_paint_s": t3 - t2, "open_to_first_page_s": t3 - t0,
            "first_episode_thumbnails_s": t4 - t3, "next_page_s": t5 - t4}


def cold_start(home: Path) -> float:
    """`deskscribe review` as a person starts it: new interpreter, imports, window shown (log line)."""
    env = {**os.environ, "DESKSCRIBE_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "deskscribe", "-v", "review"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "review window shown" in line:
            elapsed = time.perf_counter() - t
            break
    else:
        raise RuntimeError(f"deskscribe review exited with {proc.wait()}")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    proc.stdout.close()
    return elapsed


def filter_times(path: Path) -> dict[str, float]:
    db = open_db(path)
    out = {}
    for name, flt in [("status=accepted", review.EpisodeFilter(status="accepted")),
                      ("app=app3", review.EpisodeFilter(app="app3")),
                      ("search 'synthetic 77'", review.EpisodeFilter(search="synthetic 77")),
                      ("day", review.EpisodeFilter(day=review.days(db)[len(review.days(db)) // 2][0]))]:
        t = time.perf_counter()
        review.list_episodes(db, flt)
        review.count_episodes(db, flt)
        out[name] = time.perf_counter() - t
    db.conn.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=10_000)
    ap.add_argument("--frames-per-episode", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    app = QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deskscribe.db"
        db = open_db(path)
        t = time.perf_counter()
        fill_synthetic(db, args.episodes, args.frames_per_episode, tiny_image())
        fill_s = time.perf_counter() - t
        db.conn.close()
        runs = [open_window(app, path) for _ in range(args.runs)]
        filters = filter_times(path)
        cold = [cold_start(Path(tmp)) for _ in range(3)]
        size_mb = path.stat().st_size / 1e6
    keys = runs[0].keys()
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    result = {
        "episodes": args.episodes, "frames": args.episodes * args.frames_per_episode, "runs": args.runs,
        "db_mb": round(size_mb, 1), "fill_s": round(fill_s, 3), "target_s": TARGET_S,
        "median": {k: round(v, 4) for k, v in median.items()},
        "first_run_open_to_first_page_s": round(runs[0]["open_to_first_page_s"], 4),
        "max_open_to_first_page_s": round(max(r["open_to_first_page_s"] for r in runs), 4),
        "cold_start_review_command_s": [round(c, 3) for c in cold],
        "filters_s": {k: round(v, 4) for k, v in filters.items()},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "qt_platform": os.environ["QT_QPA_PLATFORM"],
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "review_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = "meets" if median["open_to_first_page_s"] <= TARGET_S else "MISSES"
    lines = [
        "# Review window on a large database",
        "",
        f"{args.episodes:,} episodes, {args.episodes * args.frames_per_episode:,} frames (bulk-filled, one shared "
        f"tiny image; {result['db_mb']} MB file), {args.runs} runs, Qt `{result['qt_platform']}`, {result['machine']}.",
        "",
        f"**Open database → window with first page of {review.PAGE_SIZE} episodes painted: "
        f"{median['open_to_first_page_s'] * 1000:.0f} ms median** (max {result['max_open_to_first_page_s'] * 1000:.0f} ms;"
        f" target ≤ {TARGET_S * 1000:.0f} ms: {ok}); the first run in the process, with Qt's one-time "
        f"widget set-up, took {runs[0]['open_to_first_page_s'] * 1000:.0f} ms.",
        "",
        f"`deskscribe review` from a cold start (new interpreter, imports, database, window shown): "
        f"{statistics.median(cold):.2f} s median of 3 ({', '.join(f'{c:.2f}' for c in cold)} s).",
        "",
        "| step (median) | ms |",
        "|---|---|",
        *[f"| {k.removesuffix('_s').replace('_', ' ')} | {v * 1000:.1f} |" for k, v in median.items()],
        "",
        "| filter (first page + count) | ms |",
        "|---|---|",
        *[f"| {k} | {v * 1000:.1f} |" for k, v in filters.items()],
        "",
        f"Filling the database took {fill_s:.1f} s. Reproduce: `python bench/review_bench.py`.",
    ]
    (OUT / "review_bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
