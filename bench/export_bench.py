"""Export of distinct 1080p frames, resized and re-encoded as the defaults do, with its memory.

    .venv/bin/python bench/export_bench.py [--checked 5] [--unchecked 100,300]
    .venv/bin/python bench/export_bench.py --trajectories [--episodes 10] [--frames 5] [--plain-episodes 60]
      (the trajectories config on distinct 1080p frames: bench/trajectory_bench.py)

Databases are filled through the storage functions capture uses (bench/screens.py: 3 frames per episode,
every frame a distinct 1920x1080 JPEG q80 screenshot-like image), every episode accepted. Each export runs
in its own process (`export()` with the default ExportOptions: hf format, --max-side 1024, so every frame is
downscaled and re-encoded, image redaction on) and reports wall time, bytes and peak RSS.

- ``after describe``: the describe stage's OCR boxes are stored first (the real OcrCaptioner on every frame,
  as `deskscribe describe` leaves them; that time is describe's, reported apart), so export checks the pixels
  from the stored lines — the normal path.
- ``fresh OCR``: the same database without captions (e.g. frames never described): export OCRs every frame.
- ``unchecked``: image redaction off — UNSAFE, library-only, not offered by the CLI — at larger sizes, to show
  what resizing and writing cost alone and that memory stays flat (300 vs 100 episodes).

Output bytes are counted once: "image MB" is each distinct exported image's bytes once (the export caches by
image hash); "folder MB" is everything in the export folder. Writes bench/out/export_bench.{json,md}, copied to
bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import benchlib as B
import screens

WORK = Path(os.environ.get("EXPORT_BENCH_DIR", "/tmp/deskscribe-export-bench"))
SIZE = (1920, 1080)
PER_EPISODE = 3


def build_db(path: Path, episodes: int) -> dict[str, Any]:
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.db import open_db

    if path.exists():
        return json.loads(path.with_suffix(".json").read_text())
    part = path.with_suffix(".part")
    part.unlink(missing_ok=True)
    db = open_db(part)
    t = time.perf_counter()
    stored = screens.fill(db, episodes, PER_EPISODE, SIZE, seed=episodes)
    run = D.model_run_id(db, D.ModelRun("describe", "llama_cpp", "bench", None, "v1", {}))
    for (ep,) in db.conn.execute("SELECT id FROM episodes").fetchall():  # all exportable: accepted
        if D.current_description(db, ep) is None:
            D.add_description(db, ep, f"Worked on task {ep}.", ["Typed a line"], author="model", model_run_id=run)
        D.review(db, ep, "accepted")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    part.rename(path)
    meta = {**stored, "episodes": episodes, "build_s": time.perf_counter() - t}
    path.with_suffix(".json").write_text(json.dumps(meta))
    return meta


def caption_copy(src: Path, dst: Path) -> dict[str, Any]:
    """A copy of ``src`` with every frame captioned by the real OcrCaptioner, boxes stored (as describe does)."""
    from deskscribe.models.describe import caption_run
    from deskscribe.models.ocr import OcrCaptioner
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.db import open_db

    with sqlite3.connect(src) as s, sqlite3.connect(dst) as d:
        s.backup(d)
    db = open_db(dst)
    cap = OcrCaptioner()
    run = D.model_run_id(db, caption_run(cap))
    hashes = [r[0] for r in db.conn.execute("SELECT hash FROM images ORDER BY hash")]
    t = time.perf_counter()
    for h in hashes:
        data = db.conn.execute("SELECT data FROM images WHERE hash = ?", (h,)).fetchone()[0]
        text, ocr_text, boxes = cap.caption_with_boxes(bytes(data))
        D.put_caption(db, h, run, text, ocr_text, ocr_boxes=boxes)
    secs = time.perf_counter() - t
    db.conn.close()
    return {"captioned": len(hashes), "caption_s": secs}


def child(db_path: str, out: str, redact: bool) -> None:
    """Runs in its own process so its peak RSS is the export's alone."""
    from deskscribe.export.core import ExportOptions, export
    from deskscribe.storage.db import open_db

    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            peak[0] = max(peak[0], B.rss_mb(os.getpid()))

    threading.Thread(target=sample, daemon=True).start()
    db = open_db(db_path, readonly=True)
    t = time.perf_counter()
    res = export(db, "hf", out, ExportOptions(redact_images=redact), progress=None)
    secs = time.perf_counter() - t
    stop.set()
    folder = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    print(json.dumps({"seconds": secs, "folder_bytes": folder, "stats": res.stats, "episodes": res.summary.episodes,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rss_sampled_peak_mb": peak[0]}))


def run_child(db: Path, mode: str, redact: bool) -> dict[str, Any]:
    out = WORK / f"out-{db.stem}-{int(redact)}"
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run([sys.executable, __file__, "_child", str(db), str(out), str(int(redact))],
                          capture_output=True, text=True)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"export of {db} failed:\n{proc.stderr[-3000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    st = r["stats"]
    r.update(db=db.name, mode=mode, image_mb=st["written_bytes"] / 1e6, folder_mb=r["folder_bytes"] / 1e6,
             source_mb=st["source_bytes"] / 1e6, s_per_image=r["seconds"] / max(1, st["images"]),
             image_mb_s=st["written_bytes"] / 1e6 / r["seconds"])
    print(json.dumps(r), file=sys.stderr)
    return r


def markdown(r: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {x['mode']} | {x['episodes']} | {x['stats']['images']} | {x['seconds']:.1f} | {x['s_per_image']:.3f} | "
        f"{x['source_mb']:.1f} | {x['image_mb']:.1f} | {x['folder_mb']:.1f} | {x['image_mb_s']:.2f} | "
        f"{x['stats']['ocr_runs']} | {x['stats']['ocr_reused']} | {x['rss_sampled_peak_mb']:.0f} |"
        for x in r["runs"])
    cap = r.get("caption") or {}
    cap_line = (f"Storing the describe-stage OCR boxes for the `after describe` database took {cap['caption_s']:.0f} s "
                f"for {cap['captioned']} frames ({cap['caption_s'] / max(1, cap['captioned']):.1f} s per frame; "
                "describe's time, not export's)." if cap else "")
    return f"""# Export benchmark: distinct 1080p frames, default options

Conditions: {B.conditions_line(r['conditions'])}.
Databases filled through the storage functions capture uses: {PER_EPISODE} frames per episode, every frame a distinct
{SIZE[0]}×{SIZE[1]} JPEG q80 screenshot-like image (bench/screens.py, ~{r['source_kb']:.0f} KB each), all accepted.
Export: hf format, default ExportOptions (max side 1024: every frame downscaled to 1024×576 and re-encoded as JPEG),
each run in its own process. Command: `python bench/export_bench.py --checked {r['checked']} --unchecked {r['unchecked']}`.

| mode | episodes | distinct images | s | s per image | source MB | image MB (each once) | folder MB | image MB/s | fresh OCR passes | checked from stored boxes | peak RSS MB (sampled) |
|---|---|---|---|---|---|---|---|---|---|---|---|
{rows}

- `after describe`: image redaction checks each frame against the OCR lines the describe stage stored; no fresh
  OCR unless a frame holds a secret. {cap_line}
- `fresh OCR`: the same frames without stored boxes: one OCR pass per frame inside the export.
- `unchecked`: image redaction OFF (UNSAFE, library-only): resizing, re-encoding and writing alone; compare its
  peak RSS across sizes for streaming.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checked", type=int, default=5, help="episodes for the redaction-on runs (OCR-bound)")
    ap.add_argument("--unchecked", default="100,300", help="episode counts for the redaction-off runs")
    ap.add_argument("--trajectories", action="store_true", help="trajectories MB/s on distinct 1080p frames")
    ap.add_argument("--episodes", type=int, default=10, help="--trajectories: episodes with image redaction")
    ap.add_argument("--frames", type=int, default=5, help="--trajectories: frames per episode")
    ap.add_argument("--plain-episodes", type=int, default=60,
                    help="--trajectories: episodes of the run without image redaction")
    args = ap.parse_args()
    if args.trajectories:
        import trajectory_bench  # bench/ is this script's folder, so it is on sys.path

        trajectory_bench.main(args.episodes, args.frames, args.plain_episodes)
        return
    WORK.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"conditions": B.conditions(), "checked": args.checked, "unchecked": args.unchecked,
                           "runs": []}
    small = WORK / f"d{args.checked}.db"
    meta = build_db(small, args.checked)
    res["source_kb"] = meta["image_bytes"] / meta["frames"] / 1000
    boxed = WORK / f"d{args.checked}-boxes.db"
    boxed.unlink(missing_ok=True)
    res["caption"] = caption_copy(small, boxed)
    res["runs"].append(run_child(boxed, "after describe", True))
    res["runs"].append(run_child(small, "fresh OCR", True))
    for n in (int(v) for v in args.unchecked.split(",") if v):
        db = WORK / f"d{n}.db"
        build_db(db, n)
        res["runs"].append(run_child(db, "unchecked (UNSAFE)", False))
    B.write("export_bench", res, markdown)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(sys.argv[2], sys.argv[3], sys.argv[4] == "1")
    else:
        main()
