"""Trajectory export throughput on distinct 1920x1080 frames (no image repeats, as in real captures).

    .venv/bin/python bench/export_bench.py --trajectories [--episodes 10] [--frames 5] [--no-redact-episodes 60]

Builds a database with storage functions: every frame a different ~1080p screenshot (text lines, window
chrome, noise; drawn per frame), a click with an element between consecutive frames, typed text, accepted
descriptions and instructions. Runs the ``hf`` export (which writes the ``trajectories`` and ``episodes``
configs beside the pair configs) in a child process, with image redaction on (the real setting: every
distinct frame is OCR'd) and off (library only, UNSAFE: what writing alone costs), and reports:

- trajectories MB/s: bytes of ``data/trajectories/*.parquet`` per second of the whole export's wall time;
- source MB/s: stored frame bytes read per second; s per frame; ru_maxrss.

Writes bench/out/trajectory_bench.{json,md} (figures quoted in README: bench/results/).
"""

from __future__ import annotations

import io
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent
WORK = Path(os.environ.get("EXPORT_BENCH_DIR", "/tmp/deskscribe-export-bench"))
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
WORDS = "terminal editor browser file save open commit push build test deploy config report invoice".split()
W, H = 1920, 1080


def frame_jpeg(rng: random.Random, font: ImageFont.FreeTypeFont) -> bytes:
    img = Image.new("RGB", (W, H), (rng.randrange(225, 250),) * 3)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, W, 32], fill=(rng.randrange(40, 90),) * 3)
    for y in range(50, 900, 24):
        line = " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(rng.randrange(4, 14)))
        d.text((16 + rng.randrange(60), y), line, fill=(20, 20, 20), font=font)
    for _ in range(20):
        x, y = rng.randrange(W - 80), rng.randrange(H - 30)
        d.rectangle([x, y, x + rng.randrange(10, 80), y + rng.randrange(5, 30)],
                    fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def build_db(path: Path, episodes: int, frames: int, seed: int = 1) -> int:
    """The database; returns the stored frame bytes."""
    from deskscribe.storage import descriptions as D
    from deskscribe.storage import events as ev
    from deskscribe.storage.actions import episode_actions
    from deskscribe.storage.db import open_db, transaction
    from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn, add_frame, close_episode, create_episode
    from deskscribe.storage.steps import StepIn

    rng = random.Random(seed)
    font = ImageFont.truetype(FONT, 15)
    db = open_db(path)
    total, ts = 0, 1_700_000_000.0
    for i in range(episodes):
        with transaction(db):
            ep = create_episode(db, ts)
            for j in range(frames):
                data = frame_jpeg(rng, font)
                total += len(data)
                x, y = rng.randrange(W), rng.randrange(H)
                el = ev.Element("push button", f"Button {j}", (max(0, x - 40), max(0, y - 12), 80, 24), "editor")
                events = [EventIn.of(ts + j - 0.5, ev.Click(x, y, monitor=1, element=el))] if j else []
                if j == frames - 1:
                    events.append(EventIn.of(ts + j - 0.2, ev.Text(f"note {i}")))
                add_frame(db, ep, FrameIn(ts + j, EncodedImage(data, "jpeg", W, H), 1, "editor", f"bench {i}",
                                          events=events))
            close_episode(db, ep)
            steps = [StepIn(f"Clicked the 'Button {k}' button in the editor", a.event_id)  # as describe stores
                     for k, a in enumerate(episode_actions(db, ep))]                      # them: one per action
            D.add_description(db, ep, f"The user edited note {i}.", steps, author="model")
            D.review(db, ep, "accepted")
            D.add_instruction(db, ep, f"Edit note {i} in the editor")
        ts += 600
    db.conn.close()
    return total


def child(db_path: str, out: str, redact: bool) -> None:
    """Runs in its own process so ru_maxrss is the export's alone."""
    import resource

    from deskscribe.export.core import ExportOptions, export
    from deskscribe.storage.db import open_db

    db = open_db(db_path, readonly=True)
    t = time.perf_counter()
    res = export(db, "hf", out, ExportOptions(redact_images=redact, max_side=0, val_fraction=0))
    secs = time.perf_counter() - t
    traj = sum(p.stat().st_size for p in (Path(out) / "data" / "trajectories").glob("*.parquet"))
    print(json.dumps({"seconds": secs, "trajectories_bytes": traj, "counts": res.summary.counts,
                      "stats": res.stats, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run(episodes: int, frames: int, redact: bool) -> dict:
    db = WORK / f"traj-{episodes}x{frames}.db"
    if db.exists():
        db.unlink()
    source = build_db(db, episodes, frames)
    out = WORK / f"traj-out-{episodes}x{frames}-{int(redact)}"
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run([sys.executable, __file__, "_child", str(db), str(out), str(int(redact))],
                          capture_output=True, text=True, check=True)
    shutil.rmtree(out, ignore_errors=True)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    n = episodes * frames
    r.update(episodes=episodes, frames=n, image_redaction=redact, source_bytes=source,
             trajectories_mb_s=r["trajectories_bytes"] / 1e6 / r["seconds"],
             source_mb_s=source / 1e6 / r["seconds"], s_per_frame=r["seconds"] / n)
    return r


COLUMNS = ("image redaction", "episodes", "frames", "trajectory steps", "s", "s / frame", "source MB",
           "trajectories MB", "trajectories MB/s", "source MB/s", "OCR runs", "ru_maxrss MB")
HEADER = "| " + " | ".join(COLUMNS) + " |\n" + "|---" * len(COLUMNS) + "|"


def report(results: dict) -> str:
    rows = "\n".join(
        f"| {'on' if r['image_redaction'] else 'OFF (unsafe)'} | {r['episodes']} | {r['frames']} | "
        f"{r['counts']['trajectories']['train']} | {r['seconds']:.1f} | {r['s_per_frame']:.3f} | "
        f"{r['source_bytes'] / 1e6:.1f} | {r['trajectories_bytes'] / 1e6:.1f} | **{r['trajectories_mb_s']:.3g}** | "
        f"{r['source_mb_s']:.3g} | {r['stats']['ocr_runs']} | {r['maxrss_mb']:.0f} |" for r in results["runs"])
    return f"""# Trajectory export benchmark (distinct 1080p frames)

Machine: {results['machine']}; load average at start {results['loadavg']}. `hf` export (pairs + `trajectories`
+ `episodes` configs), full-size images (`max_side=0`), every frame a distinct {W}x{H} JPEG
(~{results['frame_kb']:.0f} KB, q80), one click step per frame after the first, typed text in the last.

{HEADER}
{rows}

- trajectories MB/s = bytes of `data/trajectories/*.parquet` (embedded before-frame images) per second of the
  whole export (which also writes the sft/captions pairs and the `episodes` config).
- With image redaction on, every distinct frame is OCR'd (the configured engine) at least once: that bounds the rate.
  Redaction off is measured only to show what building and writing cost; the CLI never turns it off.
"""


def main(episodes: int, frames: int, plain_episodes: int) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    runs = [run(episodes, frames, True)]
    print(json.dumps(runs[-1]), file=sys.stderr)
    runs.append(run(plain_episodes, frames, False))
    print(json.dumps(runs[-1]), file=sys.stderr)
    results = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
                          f"{platform.python_version()}", "loadavg": load,
               "frame_kb": runs[0]["source_bytes"] / runs[0]["frames"] / 1000, "runs": runs}
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    (out / "trajectory_bench.json").write_text(json.dumps(results, indent=1))
    md = report(results)
    (out / "trajectory_bench.md").write_text(md)
    print(md)


if __name__ == "__main__":  # the child process of run(); people start it through export_bench.py
    child(sys.argv[2], sys.argv[3], sys.argv[4] == "1")
