"""OCR of a real default-font xterm at 1920×1080, before and after per-line reading scales, in one run; and
change-only OCR against full passes on every frame of that session and of a mousepad menus + Save As session.

    .venv/bin/python bench/ocr_xterm_bench.py

Word accuracy: the share of the words the shell printed (script's log, the screenful of each frame) that a
reading produced exactly (case, punctuation and all); also without the words holding '~'. "before": every
line at 1.5× with Lanczos, curly quotes allowed (OcrEngine(line_scales=False)); "after": the engine as it is.
The rendered GTK text set (bench/ocr_textset.py) is read by both too. Lost lines: lines a full pass keeps
(models/ocr.py kept()) with no change-only line over them (models/ocr_diff.lost_lines); "read differently":
kept lines whose text the change-only pass of the same frame does not have as one line (split or misread).
Writes bench/results/ocr_xterm.json and .md.
"""

from __future__ import annotations

import difflib
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import ocr_textset  # noqa: E402
import ocr_xterm  # noqa: E402
from deskscribe.models.ocr import _useful, kept  # noqa: E402
from deskscribe.models.ocr_diff import lost_lines, read_changed  # noqa: E402
from deskscribe.models.ocr_engine import OcrEngine, engine_key  # noqa: E402
from ocr_bench import conditions  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def exact(truth: list[str], lines: list[str], keep=lambda w: True) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    t = Counter(w for line in truth for w in line.split() if keep(w))
    return sum((t & Counter(w for line in lines for w in line.split())).values()), sum(t.values())


def misread(truth: list[str], lines: list[str]) -> Counter:
    """Known words not read, each paired with what the nearest read line has in its place (known -> read)."""
    out: Counter = Counter()
    for line in truth:
        best = max(lines, key=lambda t: difflib.SequenceMatcher(None, line, t).ratio(), default="")
        kw, bw = line.split(), best.split()
        for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, kw, bw).get_opcodes():
            if op != "equal":
                out[f"{' '.join(kw[a0:a1])} -> {' '.join(bw[b0:b1])}"] += 1
    return out


SIDES = (("before", {"line_scales": False}), ("raw_tess", {"prompt_fix": False, "glyph_look": False}),
         ("tess_fix", {"glyph_look": False}), ("raw", {"prompt_fix": False}), ("after", {}))


def words(recs: list[ocr_xterm.Recording]) -> dict:
    out: dict = {}
    screens = list(ocr_textset.screens())
    for side, opts in SIDES:
        eng = OcrEngine("hybrid", line_cache=0, **opts)
        eng.read(screens[0][1])
        hits = total = hits_p = total_p = 0
        secs = []
        errors: Counter = Counter()
        for frame, known in zip(recs[0].frames, recs[0].known, strict=True):
            t0 = time.perf_counter()
            lines = [b.text for b in eng.read(frame)]
            secs.append(time.perf_counter() - t0)
            errors += misread(known, lines)
            h, t = exact(known, lines)
            hp, tp = exact(known, lines, lambda w: "~" not in w)
            hits, total, hits_p, total_p = hits + h, total + t, hits_p + hp, total_p + tp
        g_hits = g_total = 0
        g_secs = []
        for _name, img, truth in screens:
            t0 = time.perf_counter()
            s = ocr_textset.word_scores(truth, [b.text for b in eng.read(img)])
            g_secs.append(time.perf_counter() - t0)
            g_hits, g_total = g_hits + s["hits"], g_total + s["truth_words"]
        out[side] = {"xterm_exact": hits / total, "xterm_words": total, "xterm_exact_without_tilde": hits_p / total_p,
                     "xterm_s_per_frame": statistics.mean(secs), "gtk_recall": g_hits / g_total,
                     "gtk_words": g_total, "gtk_s_per_screen": statistics.mean(g_secs),
                     "misread": [[k, n] for k, n in errors.most_common(15)]}
    return out


def changes(rec: ocr_xterm.Recording) -> dict:
    full_e, change_e = OcrEngine("hybrid"), OcrEngine("hybrid")
    prev = prev_lines = None
    lost, differ, kept_n = [], 0, 0
    full_s = change_s = 0.0
    for i, frame in enumerate(rec.frames):
        t0 = time.perf_counter()
        full = [b for b in full_e.read(frame) if kept(b) and _useful(b.text)]
        t1 = time.perf_counter()
        lines = change_e.read(frame) if prev is None else read_changed(change_e, prev, prev_lines, frame).boxes
        full_s, change_s = full_s + t1 - t0, change_s + time.perf_counter() - t1
        lost += [(i, b.text) for b in lost_lines(full, lines)]
        have = Counter(ocr_textset.squash(b.text) for b in lines)
        differ += sum((Counter(ocr_textset.squash(b.text) for b in full) - have).values())
        kept_n += len(full)
        prev, prev_lines = frame, lines
    return {"frames": len(rec.frames), "kept_lines": kept_n, "lost": len(lost), "lost_lines": lost,
            "read_differently": differ, "full_s_per_frame": full_s / len(rec.frames),
            "change_s_per_frame": change_s / len(rec.frames)}


def markdown(res: dict) -> str:
    c = res["conditions"]
    b, a = res["words"]["before"], res["words"]["after"]
    names = {"before": "before: 1.5× Lanczos for every line",
             "raw_tess": "Tesseract alone: scale from each line's ink, block caret left out",
             "tess_fix": "Tesseract alone + the prompt fix (a prompt's '\"' or '*' put back as ~)",
             "raw": "raw: Tesseract + the glyphs' second look (models/ocr_engine/glyphs.py)",
             "after": "after: raw + the prompt fix"}
    lines = ["# OCR of xterm's default font (bench/ocr_xterm_bench.py)", "",
             f"{c['date']}, {c['cores']} cores, load average {c['loadavg_start'][0]:.1f} at start; engine key "
             f"`{res['engine_key']}`. Frames: a 1920×1080 Xvfb + openbox, JPEG q80; xterm with no -fa/-fs (the "
             f"core bitmap font `fixed`, 6×13), {res['xterm_frames']} distinct frames (one after each of "
             f"{len(ocr_xterm.COMMANDS)} commands typed with xdotool, and the first prompt), {b['xterm_words']} "
             "known words (what the shell printed, from script's log).", "",
             "| reading | xterm exact word accuracy | without words holding '~' | xterm s/frame | GTK text set word "
             "recall (16 screens) | GTK s/screen |", "|---|---|---|---|---|---|"]
    for side, r in res["words"].items():
        lines.append(f"| {names[side]} | {r['xterm_exact']:.3f} | {r['xterm_exact_without_tilde']:.3f} | "
                     f"{r['xterm_s_per_frame']:.2f} | {r['gtk_recall']:.3f} | {r['gtk_s_per_screen']:.2f} |")
    lines += ["", "The glyphs' second look (models/ocr_engine/glyphs.py): on a monospace line (Tesseract's symbols on "
              "one grid of whole screen pixels) the text is rebuilt cell by cell from Tesseract's symbols and the "
              "line's ink: a blank cell is a space, a symbol of a confusable set (',' '.', ';' ':', '\"' '*' '~', "
              "'l' 'I', 'v' 'y') is re-decided by its ink's place and shape, an inked cell with no symbol "
              "is put back only when its ink is a mark its shape tells ('~', '.', ',', '-'). On a line steady on its grid "
              "(10 or more glyphs, 85 % of them on it, a tenth of a cell off on average: a terminal's, not GTK text) "
              "'c' 'e' (a bar across the middle to the right side), 'u' 'w' (a middle stroke), '*' '#' (two stems) and '@' read as 'l' or "
              "'t' (a ring as wide as the cell) are re-decided by their ink and a space is a blank cell whatever was "
              "read; a '.' or ':' read on a cell with no ink is dropped. No expected text is used.",
              "", "The prompt fix (models/ocr_engine/words.py prompt_home): at the start of a line, user@host: then '\"' "
              "or '*' then an optional /path and # or $ is bash's prompt, whose directory is ~ or starts with ~ or /; "
              "there the '\"' or '*' can only be ~. Nothing else is changed after reading.", "",
              "Misread words after (known -> what the nearest read line has there, times):", ""]
    lines += [f"- `{k}` ×{n}" for k, n in a["misread"]]
    lines += ["", "s/frame: every line read (no line cache), one process, 2 shared cores; the change-only table "
              "below reads with the cache."]
    lines += ["", "## Change-only OCR vs a full pass, every frame", "",
              "| session | frames | lines the full pass keeps | lost | read differently | full s/frame | "
              "change-only s/frame |", "|---|---|---|---|---|---|---|"]
    for name, r in res["changes"].items():
        lines.append(f"| {name} | {r['frames']} | {r['kept_lines']} | {r['lost']} | {r['read_differently']} | "
                     f"{r['full_s_per_frame']:.2f} | {r['change_s_per_frame']:.2f} |")
    lines += ["", "Lost: a kept line with no change-only line over it. Read differently: a kept line whose text is "
              "not one change-only line of that frame (split into two boxes, or read otherwise)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    recs = ocr_xterm.record()
    res = {"conditions": conditions(), "engine_key": engine_key("hybrid"), "xterm_frames": len(recs[0].frames),
           "words": words(recs), "changes": {rec.name: changes(rec) for rec in recs}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ocr_xterm.json").write_text(json.dumps(res, indent=1))
    (RESULTS / "ocr_xterm.md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
