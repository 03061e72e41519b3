"""What forgetting costs on a large database: the search-index triggers, the index merge and the WAL checkpoint.

Run: .venv/bin/python bench/forget_bench.py  [--episodes N --frames-per-episode K]
Writes bench/out/forget_bench.{json,md} (the figures quoted in the README are in bench/results/). The database is synthetic (storage.review.fill_synthetic: one
title per episode, one shared image, every 10th episode described); each case runs on a fresh copy of it,
with a second connection held open as the review window would.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from deskscribe.storage import forget, review
from deskscribe.storage.db import open_db

OUT = Path(__file__).resolve().parent / "out"


def _image() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (40, 110, 180)).save(buf, "PNG")
    return buf.getvalue()


def _build(path: Path, episodes: int, per: int) -> None:
    db = open_db(path)
    review.fill_synthetic(db, episodes, per, _image())
    # titles and descriptions went into search_fts through the insert triggers; start from a merged index
    db.conn.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def _case(template: Path, work: Path, name: str, fn) -> dict[str, float | str]:  # type: ignore[no-untyped-def]
    path = work / f"{name}.db"
    shutil.copy(template, path)
    db, other = open_db(path), open_db(path)
    other.conn.execute("SELECT count(*) FROM frames").fetchone()  # the held connection has read once
    started = time.perf_counter()
    done = fn(db)
    delete_s = time.perf_counter() - started
    started = time.perf_counter()
    truncated = forget.scrub(db)
    scrub_s = time.perf_counter() - started
    wal = Path(f"{path}-wal")
    row = {"case": name, "delete_s": round(delete_s, 3), "scrub_s": round(scrub_s, 3), "forgot": str(done),
           "wal_truncated": truncated, "wal_bytes_after": wal.stat().st_size if wal.exists() else 0}
    db.conn.close()
    other.conn.close()
    path.unlink()
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=10_000)
    ap.add_argument("--frames-per-episode", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = work / "template.db"
        t0 = time.perf_counter()
        _build(template, args.episodes, args.frames_per_episode)
        build_s = time.perf_counter() - t0
        db = open_db(template)
        fts_rows = db.conn.execute("SELECT count(*) FROM search_fts").fetchone()[0]
        frames = db.conn.execute("SELECT count(*) FROM frames").fetchone()[0]
        batch = [r[0] for r in db.conn.execute("SELECT id FROM frames ORDER BY ts LIMIT 500")]
        db.conn.close()
        # scrub_after=False: the delete and the scrub are timed apart
        cases = [
            ("one frame (review window delete)", lambda d: forget.forget_frames(d, [batch[0]], scrub_after=False,
                                                                              drop_descriptions=False)),
            ("one episode", lambda d: forget.forget_frames(d, [r[0] for r in d.conn.execute(
                "SELECT id FROM frames WHERE episode_id = 10")], scrub_after=False)),
            ("500 oldest frames (one retention batch)", lambda d: forget.forget_frames(d, batch, scrub_after=False,
                                                                                     drop_descriptions=False)),
        ]
        rows = [_case(template, work, f"case{i}", fn) | {"case": name} for i, (name, fn) in enumerate(cases)]
    result = {"conditions": {"episodes": args.episodes, "frames": frames, "search_fts_rows": fts_rows,
                             "python": sys.version.split()[0], "platform": platform.platform(),
                             "cpus": os.cpu_count(), "load_avg": os.getloadavg()[0], "build_s": round(build_s, 1)},
              "cases": rows}
    OUT.mkdir(exist_ok=True)
    (OUT / "forget_bench.json").write_text(json.dumps(result, indent=1))
    c = result["conditions"]
    lines = ["# forget bench", "",
             f"{c['frames']} frames in {c['episodes']} episodes, {c['search_fts_rows']} search rows; "
             f"{c['cpus']} CPUs, load average {c['load_avg']:.1f} at the end; a second connection held open.", "",
             "| case | delete (s) | merge index + checkpoint (s) | WAL truncated | forgot |", "|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['delete_s']} | {r['scrub_s']} | {r['wal_truncated']} | {r['forgot']} |" for r in rows]
    (OUT / "forget_bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
