"""How long the review window takes to show a large database (10k episodes, 100k distinct frames).

    .venv/bin/python bench/review_bench.py [--episodes 10000 --frames-per-episode 10 --size 1280x800 --runs 5]

The database is filled through the storage functions capture uses, with a distinct screenshot-like JPEG for
every frame (bench/screens.py: windows, text, a clock; consecutive frames differ like captured ones), so
the file is as large as a real one and nothing is served from one cached image. It is kept under
/tmp/deskscribe-review-bench/ between runs (delete it to rebuild).

Cold start: each run is a new `deskscribe review` process on Xvfb (xcb, as a person's desktop), with the
database file's pages dropped from the OS cache first (posix_fadvise DONTNEED; Python and Qt libraries stay
cached, as on any second launch). Measured from spawning the process to (1) the episode list PAINTED — an
event filter on the table's viewport reports after its first paint with rows (bench/review_probe.py), not a
log line before ``app.exec()`` — and (2) the first episode's thumbnails decoded. Warm: the same window built
again in one process (offscreen), and the filter queries.
Writes bench/out/review_bench.{json,md} and copies them to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import benchlib as B
import screens

WORK = Path(os.environ.get("REVIEW_BENCH_DIR", "/tmp/deskscribe-review-bench"))
TARGET_S = 0.5


def build(path: Path, episodes: int, per_episode: int, size: tuple[int, int]) -> dict[str, Any]:
    from deskscribe.storage.db import open_db

    part = path.with_suffix(".part")  # a stopped build resumes where it stopped
    db = open_db(part)
    resumed = int(db.conn.execute("SELECT count(*) FROM episodes").fetchone()[0])
    t = time.perf_counter()
    stored = screens.fill(db, episodes, per_episode, size, workers=max(1, min(4, os.cpu_count() or 1)))
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    part.rename(path)
    return {**stored, "fill_s": time.perf_counter() - t, "resumed_at_episode": resumed}


def drop_file_cache(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def cold_start(x: B.XSession, home: Path) -> dict[str, float]:
    drop_file_cache(home / "deskscribe.db")
    probe = Path(__file__).with_name("review_probe.py")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(probe)], env={**x.env, "DESKSCRIBE_HOME": str(home),
                                                               "QT_QPA_PLATFORM": "xcb"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=300)
    marks = {line.split()[0]: float(line.split()[1]) for line in out.splitlines()
             if line.startswith(("PAINTED", "THUMBNAILS"))}
    if "PAINTED" not in marks:
        raise RuntimeError(f"deskscribe review exited with {proc.returncode} before painting:\n{err[-2000:]}")
    return {"to_list_painted_s": marks["PAINTED"] - t0,
            "to_first_thumbnails_s": marks.get("THUMBNAILS", float("nan")) - t0}


def warm(path: Path, runs: int) -> list[dict[str, float]]:
    """The window built again and again in one process (offscreen): what a re-open costs once warm."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from deskscribe.app.review_window import ReviewWindow
    from deskscribe.storage.db import open_db

    app = QApplication.instance() or QApplication([sys.argv[0]])
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        db = open_db(path)
        window = ReviewWindow(db)
        window.show()
        window.table.viewport().repaint()  # a synchronous paint of the list
        t1 = time.perf_counter()
        B.wait_until(lambda w=window: (app.processEvents() or True) and w.frames.frames
                     and w.frames.thumbnails_loaded() >= len(w.frames.frames), 60, "thumbnails", 0.001)
        t2 = time.perf_counter()
        window.model.fetchMore()
        t3 = time.perf_counter()
        window.close()
        window.loader.shutdown()
        db.conn.close()
        out.append({"open_to_list_painted_s": t1 - t0, "then_thumbnails_s": t2 - t1, "next_page_s": t3 - t2})
    return out


def filter_times(path: Path) -> dict[str, float]:
    from deskscribe.storage import review
    from deskscribe.storage.db import open_db

    db = open_db(path, readonly=True)
    days = review.days(db)
    out = {}
    for name, flt in [("status=accepted", review.EpisodeFilter(status="accepted")),
                      ("app=xterm", review.EpisodeFilter(app="xterm")),
                      ("search 'invoice budget'", review.EpisodeFilter(search="invoice budget")),
                      ("one day", review.EpisodeFilter(day=days[len(days) // 2][0]))]:
        t = time.perf_counter()
        review.list_episodes(db, flt)
        review.count_episodes(db, flt)
        out[name] = time.perf_counter() - t
    db.conn.close()
    return out


def markdown(r: dict[str, Any]) -> str:
    cold, warm_ = r["cold_median"], r["warm_median"]
    ok = "meets" if cold["to_list_painted_s"] <= TARGET_S else "MISSES"
    return "\n".join([
        "# Review window on a large database",
        "",
        f"Conditions: {B.conditions_line(r['conditions'])}.",
        f"Database: {r['episodes']:,} episodes, {r['frames']:,} frames, every frame a distinct {r['size']} JPEG q80 "
        f"screenshot-like image (bench/screens.py; {r['image_mb']:,.0f} MB of images, {r['db_mb']:,.0f} MB file), "
        "filled through the storage functions capture uses; every 3rd episode described, some reviewed.",
        "",
        f"**Cold start of `deskscribe review` to the painted episode list: {cold['to_list_painted_s']:.2f} s** "
        f"(median of {r['runs']}; target ≤ {TARGET_S} s: {ok}); to the first episode's thumbnails: "
        f"{cold['to_first_thumbnails_s']:.2f} s. Each run: a new process on Xvfb (Qt xcb), the database "
        "file dropped from the OS page cache first (Python and Qt libraries stay cached, as on any second "
        "launch); timed from spawning the process to an event after the list's first paint.",
        "",
        "| cold run | to list painted s | to first thumbnails s |",
        "|---|---|---|",
        *[f"| {i + 1} | {c['to_list_painted_s']:.3f} | {c['to_first_thumbnails_s']:.3f} |"
          for i, c in enumerate(r["cold"])],
        "",
        f"Warm (window built again in one process, offscreen, median of {r['runs']}): open database → list "
        f"painted {warm_['open_to_list_painted_s'] * 1000:.0f} ms, then thumbnails "
        f"{warm_['then_thumbnails_s'] * 1000:.0f} ms; next page {warm_['next_page_s'] * 1000:.1f} ms.",
        "",
        "| filter (first page + count) | ms |",
        "|---|---|",
        *[f"| {k} | {v * 1000:.1f} |" for k, v in r["filters_s"].items()],
        "",
        f"Building the database took {r['fill_s']:.0f} s (generation + JPEG encoding + inserts"
        + (f"; resumed at episode {r['resumed_at_episode']:,}, so that time covers only the rest" if
           r.get("resumed_at_episode") else "") + "). Command: "
        f"`python bench/review_bench.py --episodes {r['episodes']} --frames-per-episode {r['per_episode']} "
        f"--size {r['size']}`.",
        "",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=10_000)
    ap.add_argument("--frames-per-episode", type=int, default=10)
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    res: dict[str, Any] = {"conditions": B.conditions(), "episodes": args.episodes,
                           "per_episode": args.frames_per_episode, "size": args.size, "runs": args.runs}
    home = WORK / f"{args.episodes}x{args.frames_per_episode}-{args.size}"
    home.mkdir(parents=True, exist_ok=True)
    path = home / "deskscribe.db"
    meta = home / "build.json"
    if not path.exists():
        meta.write_text(json.dumps(build(path, args.episodes, args.frames_per_episode, size)))  # type: ignore[arg-type]
    res.update(json.loads(meta.read_text()))
    res["db_mb"] = path.stat().st_size / 1e6
    res["image_mb"] = res["image_bytes"] / 1e6
    with B.XSession((1920, 1080)) as x:
        res["cold"] = [cold_start(x, home) for _ in range(args.runs)]
    res["warm"] = warm(path, args.runs)
    res["filters_s"] = filter_times(path)
    res["cold_median"] = {k: statistics.median(c[k] for c in res["cold"]) for k in res["cold"][0]}
    res["warm_median"] = {k: statistics.median(c[k] for c in res["warm"]) for k in res["warm"][0]}
    B.write("review_bench", res, markdown)


if __name__ == "__main__":
    main()
