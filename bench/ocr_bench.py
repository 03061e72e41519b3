"""OCR benchmark: word accuracy on rendered UI text, and change-only OCR against full passes.

    .venv/bin/python bench/ocr_bench.py [--part all|words|dev|xvfb] [--dev-frames 16] [--recordings 3]

1. Words (bench/ocr_textset.py: 16 rendered screens, menus/terminal/editor/dialog text, 11-18 px, DejaVu Sans
   and Mono, light and dark): word recall/precision and merged words of each reader — RapidOCR's raw text
   (the first landing), RapidOCR with deskscribe.models.ocr_engine.split_merged, and RapidOCR's detector with Tesseract reading each line (the default
   engine, hybrid) — and seconds per screen of each, measured in the same run, interleaved screen by screen.
2. Change-only OCR (models/ocr_diff.py) with each engine on the dev set (ScreenAgent frames, in episode order)
   and on scripted Xvfb sessions (xterm + mousepad driven by xdotool): for every frame after the first of an
   episode, the change-only text against a full pass of the same frame (line-level agreement: F1 of the
   multisets of lines, compared without whitespace), and OCR seconds per frame of both, interleaved frame by
   frame, each side with its own engine (an engine reuses the readings of lines whose pixels it has read).
Writes bench/results/ocr_bench.json and .md with the conditions (cores, load, versions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
import ocr_textset  # noqa: E402
import ocr_xvfb  # noqa: E402
from deskscribe.models.ocr import MIN_SCORE  # noqa: E402
from deskscribe.models.ocr import _useful as useful  # noqa: E402
from deskscribe.models.ocr_diff import read_changed  # noqa: E402
from deskscribe.models.ocr_engine import ENGINES, OcrEngine, engine_key  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SHARED = Path(os.environ.get("DESKSCRIBE_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
DEV = SHARED / "data" / "screenagent-dev"


# (key, label, engine, split_words): the readers compared on the rendered-text set
READERS = [("rapidocr_raw", "RapidOCR raw (the first landing)", "rapidocr", False),
           ("rapidocr_split", "RapidOCR + split_merged", "rapidocr", True),
           ("hybrid", "RapidOCR's detector + Tesseract 5 per line (the default engine)", "hybrid", True)]


def bench_words(screens: list[tuple[str, Image.Image, list[str]]]) -> dict:
    engines = {key: OcrEngine(engine, split_words=split) for key, _label, engine, split in READERS}
    for engine in engines.values():  # load the models before timing
        engine.read(Image.new("RGB", (64, 32), "white"))
    rows = []
    for name, img, truth in screens:
        row: dict = {"screen": name}
        for key, engine in engines.items():
            t0 = time.perf_counter()
            lines = [b.text for b in engine.read(img)]
            row[key] = {**ocr_textset.word_scores(truth, lines), "s": time.perf_counter() - t0}
        rows.append(row)
    out: dict = {"screens": rows, "readers": {}}
    for key, label, _engine, _split in READERS:
        hits = sum(r[key]["hits"] for r in rows)
        out["readers"][key] = {"label": label, "recall": hits / sum(r[key]["truth_words"] for r in rows),
                               "precision": hits / max(1, sum(r[key]["ocr_words"] for r in rows)),
                               "merged": sum(r[key]["merged"] for r in rows),
                               "s_per_screen": statistics.mean(r[key]["s"] for r in rows)}
    return out


def line_agreement(a: list[str], b: list[str]) -> float:
    """F1 of two multisets of lines, compared without whitespace and case (1.0 when both are empty)."""
    ca = Counter(ocr_textset.squash(t) for t in a if t.strip())
    cb = Counter(ocr_textset.squash(t) for t in b if t.strip())
    if not ca and not cb:
        return 1.0
    return 2 * sum((ca & cb).values()) / (sum(ca.values()) + sum(cb.values()))


def visual_rows(boxes: list) -> list[str]:
    """The boxes grouped into the rows a person reads: boxes whose vertical centres lie within half a box height
    of each other, joined left to right. The detector splits one row into boxes differently on a crop than on
    the whole frame ("File Edit" + "Search" vs "File Edit Search"); rows compare the text, not the split."""
    rows: list[list] = []
    for b in sorted(boxes, key=lambda b: b.y + b.h / 2):
        cy = b.y + b.h / 2
        if rows and abs(cy - (rows[-1][0].y + rows[-1][0].h / 2)) <= rows[-1][0].h / 2:
            rows[-1].append(b)
        else:
            rows.append([b])
    return [" ".join(x.text for x in sorted(row, key=lambda b: b.x)) for row in rows]


def kept_text(boxes: list) -> list[str]:
    """The lines describe keeps as a frame's text (its ocr_text): confident boxes with a letter or digit."""
    return [b.text for b in boxes if b.score >= MIN_SCORE and useful(b.text)]


def bench_changes(name: str, episodes: list[list[np.ndarray]],
                  truth: dict[tuple[int, int], list[str]] | None = None) -> dict:
    """Full pass vs change-only on every frame, chained as describe does (each frame from the last result).

    Each side has its own engine: an engine keeps the lines it has read (by their pixels), and one side must not
    hand its readings to another. The full pass is timed twice: reading every line (what a full pass costs) and
    with the engine's line cache (describe with change-only OCR off). ``truth``: the lines known to be on some
    frames, (episode, frame) → lines; both readings of those frames are also scored against them."""
    engine, whole, cached = OcrEngine(name), OcrEngine(name, line_cache=0), OcrEngine(name)
    blank = np.full((64, 64, 3), 255, np.uint8)
    for e in (engine, whole, cached):  # load the models before timing
        e.read(blank)
    frames = []
    scored: dict[str, Counter] = {"full": Counter(), "change": Counter()}
    for e, ep in enumerate(episodes):
        prev = prev_lines = None
        for i, rgb in enumerate(ep):
            t0 = time.perf_counter()
            full = whole.read(rgb)
            full_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            cached.read(rgb)
            cached_s = time.perf_counter() - t0
            if prev is None:  # the first frame: change-only OCR is a full pass too
                t1 = time.perf_counter()
                lines, full_pass, n_regions = engine.read(rgb), True, 0
                change_s = time.perf_counter() - t1
            else:
                t1 = time.perf_counter()
                res = read_changed(engine, prev, prev_lines, rgb)
                change_s = time.perf_counter() - t1
                lines, full_pass, n_regions = res.boxes, res.full, len(res.regions)
            frames.append({"episode": e, "index": i, "full_s": full_s, "cached_s": cached_s, "change_s": change_s, "first": prev is None,
                           "full_pass": full_pass, "regions": n_regions,
                           "agreement": line_agreement([b.text for b in full], [b.text for b in lines]),
                           "text_agreement": line_agreement(kept_text(full), kept_text(lines)),
                           "row_agreement": line_agreement(visual_rows(full), visual_rows(lines))})
            if truth and (e, i) in truth:
                for side, boxes in (("full", full), ("change", lines)):
                    s = ocr_textset.word_scores(truth[(e, i)], [b.text for b in boxes])
                    scored[side].update({k: s[k] for k in ("hits", "truth_words", "ocr_words")})
                frames[-1]["truth"] = True
            prev, prev_lines = rgb, lines
    later = [f for f in frames if not f["first"]]
    full_s = sum(f["full_s"] for f in frames)
    change_s = sum(f["change_s"] for f in frames)
    return {
        "episodes": len(episodes), "frames": len(frames), "later_frames": len(later),
        "later_full_passes": sum(f["full_pass"] for f in later),
        "agreement_mean": statistics.mean(f["agreement"] for f in later) if later else None,
        "agreement_min": min((f["agreement"] for f in later), default=None),
        "text_agreement_mean": statistics.mean(f["text_agreement"] for f in later) if later else None,
        "text_agreement_min": min((f["text_agreement"] for f in later), default=None),
        "row_agreement_mean": statistics.mean(f["row_agreement"] for f in later) if later else None,
        "row_agreement_min": min((f["row_agreement"] for f in later), default=None),
        "full_s_per_frame": full_s / len(frames), "change_s_per_frame": change_s / len(frames),
        "cached_s_per_frame": sum(f["cached_s"] for f in frames) / len(frames),
        "speedup_all_frames": full_s / change_s if change_s else None,
        "speedup_later_frames": sum(f["full_s"] for f in later) / sum(f["change_s"] for f in later) if later else None,
        "frames_detail": frames,
        **({"truth_frames": sum(1 for f in frames if f.get("truth")),
            **{f"truth_recall_{side}": c["hits"] / c["truth_words"] for side, c in scored.items()},
            **{f"truth_precision_{side}": c["hits"] / max(1, c["ocr_words"]) for side, c in scored.items()}}
           if scored["full"]["truth_words"] else {}),
    }


def dev_episodes(limit: int) -> list[list[np.ndarray]]:
    out, total = [], 0
    for folder in sorted(p for p in DEV.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.jpg"))
        if len(files) < 2:
            continue
        take = files[: max(2, min(len(files), limit - total))]
        out.append([np.asarray(Image.open(f).convert("RGB")) for f in take])
        total += len(take)
        if total >= limit:
            break
    return out


def conditions() -> dict:
    import importlib.metadata as md

    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(),
            "loadavg_start": os.getloadavg(), "python": platform.python_version(),
            "engine_keys": {e: engine_key(e) for e in ENGINES},
            "onnxruntime": md.version("onnxruntime"), "wordninja": md.version("wordninja")}


def markdown(res: dict) -> str:
    w = res.get("words")
    lines = ["# OCR benchmark (bench/ocr_bench.py)", "", "Conditions of each part (timings are from one run of that "
             "part, on a shared machine: compare the ratios inside a part):", ""]
    for part, c in res["conditions"].items():
        lines.append(f"- {part}: {c['date']}, {c['cores']} cores, load average {c['loadavg_start'][0]:.1f} at start / "
                     f"{c.get('loadavg_end', [float('nan')])[0]:.1f} at end; engine keys "
                     + ", ".join(f"`{k}`" for k in c["engine_keys"].values())
                     + f"; onnxruntime {c['onnxruntime']}, wordninja {c['wordninja']}")
    lines.append("")
    if w:
        lines += _words_table(w, f"Words kept apart ({len(w['screens'])} rendered screens, bench/ocr_textset.py)")
    if res.get("words_xvfb", {}).get("screens"):
        x = res["words_xvfb"]
        lines += _words_table(x, f"Words on real screens ({len(x['screens'])} frames of the scripted Xvfb sessions "
                              "below whose text is known: mousepad after each typed line, xterm after 7 commands)")
    lines += _changes_table(res["changes"])
    return "\n".join(lines) + "\n"


def _words_table(w: dict, title: str) -> list[str]:
    lines = [
        f"## {title}", "",
        "| reader | word recall | word precision | merged words | seconds per screen |", "|---|---|---|---|---|",
    ]
    for r in w["readers"].values():
        lines.append(f"| {r['label']} | {r['recall']:.3f} | {r['precision']:.3f} | {r['merged']} | "
                     f"{r['s_per_screen']:.2f} |")
    lines += ["", "Word recall: share of the truth words that the reader produced as separate words (case and "
              "surrounding punctuation ignored). Merged words: output words that are not truth words but start "
              "with two truth words run together.", ""]
    return lines


def _changes_table(changes: dict) -> list[str]:
    lines = ["## Change-only OCR vs a full pass", "",
             "| frames | episodes | later frames (of them full passes) | text agreement mean / min | "
             "box agreement mean / min | row agreement mean / min | full s/frame | full, line cache, s/frame | "
             "change-only s/frame | speed-up over full (all / later frames) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in changes.items():
        if not r.get("frames"):
            lines.append(f"| {name}: {r.get('skipped', 'not run')} | | | | | | | | | |")
            continue
        lines.append(f"| {name} ({r['frames']}) | {r['episodes']} | {r['later_frames']} ({r['later_full_passes']}) | "
                     + (f"{r['text_agreement_mean']:.3f} / {r['text_agreement_min']:.3f} | "
                        if "text_agreement_mean" in r else "– | ")
                     + f"{r['agreement_mean']:.3f} / {r['agreement_min']:.3f} | "
                     f"{r['row_agreement_mean']:.3f} / {r['row_agreement_min']:.3f} | {r['full_s_per_frame']:.2f} | "
                     + (f"{r['cached_s_per_frame']:.2f} | " if "cached_s_per_frame" in r else "– | ")
                     + f"{r['change_s_per_frame']:.2f} | {r['speedup_all_frames']:.2f}× / "
                     f"{r['speedup_later_frames']:.2f}× |")
    for name, r in changes.items():
        if r.get("text_agreement_per_recording"):
            lines += ["", f"{name}: the sessions recorded {r['recordings']} times, each on its own desktop; text "
                      "agreement of each recording's later frames: "
                      + " / ".join(f"{a:.3f}" for a in r["text_agreement_per_recording"]) + "."]
    lines += ["", "Each frame is OCR'd three times in the same run, each by its own engine: a full pass reading every "
              "line, a full pass with the engine's line cache (a line whose pixels it read before is not read "
              "again: hybrid only), and change-only from the previous frame and its change-only lines (chained, "
              "as `deskscribe describe` does, with the line cache). The first frame of an episode is a full pass "
              "in all three. Text agreement: F1 of the two multisets of the lines describe keeps as the frame's "
              "text (confidence ≥ 0.6, a letter or digit; without whitespace and case). "
              "Box agreement: the same over every box the detector returned, icons read as text included (without "
              "whitespace and case). Row agreement: the same F1 over visual rows (boxes whose vertical centres lie "
              "within half a box height, joined left to right), which does not count a row split into boxes "
              "differently on a crop as a difference."]
    known = {name: r for name, r in changes.items() if r.get("truth_frames")}
    if known:
        lines += ["", "Against the text known to be on the screen (the frames of the scripted sessions whose lines are "
                  "known, as in \"Words on real screens\"; each read in its place in the chain):", "",
                  "| frames | frames with known text | word recall: full / change-only | "
                  "word precision: full / change-only |", "|---|---|---|---|"]
        for name, r in known.items():
            lines.append(f"| {name} | {r['truth_frames']} | {r['truth_recall_full']:.3f} / "
                         f"{r['truth_recall_change']:.3f} | {r['truth_precision_full']:.3f} / "
                         f"{r['truth_precision_change']:.3f} |")
    return lines


def record(tries: int = 3) -> list[list[np.ndarray]]:
    """One recording of the scripted sessions; a desktop that never settled (a lost key, an app that did not
    come up) is recorded again on a new one, and said on stderr."""
    for n in range(1, tries):
        try:
            return ocr_xvfb.sessions()
        except TimeoutError as exc:
            print(f"recording {n} of the scripted sessions failed ({exc}); recording again", file=sys.stderr)
    return ocr_xvfb.sessions()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev-frames", type=int, default=16, help="dev-set frames (whole episodes, in order)")
    ap.add_argument("--part", choices=("all", "words", "dev", "xvfb"), default="all",
                    help="run one part and keep the others' last results in the JSON")
    ap.add_argument("--recordings", type=int, default=3,
                    help="times the scripted Xvfb sessions are recorded for change-only OCR (each its own desktop)")
    args = ap.parse_args()
    path = RESULTS / "ocr_bench.json"
    res: dict = {"conditions": {args.part: conditions()}, "changes": {}}
    recorded = [record() for _ in range(args.recordings if args.part in ("all", "xvfb") else 1)] \
        if args.part in ("all", "words", "xvfb") and shutil.which("Xvfb") else []
    sessions = recorded[0] if recorded else None
    if args.part in ("all", "words"):
        res["words"] = bench_words(list(ocr_textset.screens()))
        if sessions:
            res["words_xvfb"] = bench_words(ocr_xvfb.known_text(sessions))
    if args.part in ("all", "dev"):
        dev = dev_episodes(args.dev_frames) if DEV.exists() else None
        for name in ENGINES:
            res["changes"][f"dev set, {name}"] = bench_changes(name, dev) if dev else \
                {"skipped": f"no dev set at {DEV}"}
    if args.part in ("all", "xvfb"):
        # Every recording of the same script differs a little (when the first frame was grabbed, how the
        # terminal had drawn by then), and change-only carries a frame's reading on: each is its own chain.
        per = len(sessions) if sessions else 0
        episodes = [ep for rec in recorded for ep in rec]
        known = {(r * per + s, i): lines for r in range(len(recorded)) for _name, s, i, lines in ocr_xvfb.known_frames()}
        for name in ENGINES:
            if not episodes:
                res["changes"][f"scripted Xvfb, {name}"] = {"skipped": "Xvfb is not installed"}
                continue
            out = bench_changes(name, episodes, known)
            out["recordings"] = len(recorded)
            out["text_agreement_per_recording"] = [
                statistics.mean(f["text_agreement"] for f in out["frames_detail"]
                                if not f["first"] and r * per <= f["episode"] < (r + 1) * per)
                for r in range(len(recorded))]
            res["changes"][f"scripted Xvfb, {name}"] = out
    res["conditions"][args.part]["loadavg_end"] = os.getloadavg()
    if args.part != "all" and path.exists():  # keep the other parts' latest results (read now: parts may overlap)
        old = json.loads(path.read_text())
        old.setdefault("conditions", {}).update(res["conditions"])
        old.setdefault("changes", {}).update(res["changes"])
        for key in ("words", "words_xvfb"):
            if key in res:
                old[key] = res[key]
        old["changes"] = {k: v for k, v in old["changes"].items() if "," in k}  # results from before engines
        res = old
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(res, indent=1))
    (RESULTS / "ocr_bench.md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
