"""Describe benchmark: pipeline overhead, OCR and LLM cost, cached re-run cost, and description quality.

    /tmp/venv/bin/python bench/describe_bench.py [--shared ../shared] [--limit N]

Imports every screenagent-dev episode into a fresh data folder (with the recorded typed text: the dev set's
actions stand in for input that capture would record with capture.store_typed_text on), runs
`describe` with the default offline models (OCR captions + SmolLM2-135M) and the model composing each task
(``describe.compose = "model"``; the default, "auto", has the steps write it for the bundled model), then:
- overhead = wall time of the batch ÷ time inside model calls (OCR + LLM), target ≤ 1.05;
- OCR s/frame, LLM s/episode; a no-op re-run; a re-describe with compose=evidence (the task written from the
  steps, no model; captions cached);
- quality: predictions JSONL scored by shared/tools/score_descriptions.py (key-entity recall, verb match), with
  the model composing the task with and without typed text, and the evidence-only task (what the default does
  with the bundled model) with and without typed text;
  how many drafts were flagged for review (the model's answer unusable or unfounded).
Writes bench/out/describe_bench.{json,md}.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"


def predictions(db, path: Path) -> int:  # type: ignore[no-untyped-def]
    """Write {"episode": folder name, "text": summary + steps} for every episode's current description."""
    from deskscribe.storage.descriptions import current_description

    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in db.query("SELECT id, source_ref FROM episodes ORDER BY id"):
            desc = current_description(db, row["id"])
            if desc is None:
                continue
            text = " ".join([desc["summary"], *desc["steps"]])
            fh.write(json.dumps({"episode": Path(row["source_ref"]).name, "text": text}) + "\n")
            n += 1
    return n


def score(shared: Path, preds: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(shared / "tools" / "score_descriptions.py"),
         str(shared / "data" / "screenagent-dev" / "episodes.jsonl"), str(preds)],
        capture_output=True, text=True, check=True,
    ).stdout
    m = re.search(r"key_entity_recall=([\d.]+).*verb_match=([\d.]+)", out)
    assert m, out
    return {"recall": float(m.group(1)), "verb_match": float(m.group(2)), "report": out}


def timed_batch(db, cfg, **kw):  # type: ignore[no-untyped-def]
    from deskscribe.models.describe import run_batch

    start = time.perf_counter()
    res = run_batch(db, cfg, **kw)
    return res, time.perf_counter() - start


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def typing_from_screen(db, data: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Typed text not stored: of the typing the dataset records (``type '…'``), how much shows on a typing
    burst's after frame (OCR), and how much of that the steps read back as write() text (≥ 0.9 similar); and
    the texts read that match nothing typed (wrong writes)."""
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.actions import episode_actions

    truth = {e["episode"]: e for e in map(json.loads, (data / "episodes.jsonl").read_text().splitlines())}
    ocr = dict(db.conn.execute("SELECT f.id, c.ocr_text FROM frames f JOIN captions c ON c.image_hash = f.image_hash"))
    out = {"typed": 0, "on_screen": 0, "read": 0, "writes": 0, "wrong": [], "missed": []}
    for eid, ref in db.conn.execute("SELECT id, source_ref FROM episodes").fetchall():
        typed = [m.group(1) for st in truth[Path(ref).name]["steps"] for a in st["actions"]
                 if (m := re.match(r"type '(.*)'$", a))]
        after = {a.after for a in episode_actions(db, eid) if a.kind == "keys"}
        screen = _norm(" ".join(ocr.get(f) or "" for f in after))
        desc = D.current_description(db, eid) or {"step_rows": []}
        reads = [str(r["evidence"]["typed"]) for r in desc["step_rows"] if r["evidence"].get("text_source") == "screen"]
        out["writes"] += len(reads)  # type: ignore[operator]
        similar = lambda a, b: difflib.SequenceMatcher(None, _norm(a), _norm(b)).ratio() >= 0.9  # noqa: E731
        for text in typed:
            out["typed"] += 1  # type: ignore[operator]
            if _norm(text) in screen:
                out["on_screen"] += 1  # type: ignore[operator]
                if any(similar(text, r) for r in reads):
                    out["read"] += 1  # type: ignore[operator]
                else:
                    out["missed"].append(text)  # type: ignore[attr-defined]
        out["wrong"] += [r for r in reads if not any(similar(t, r) for t in typed)]  # type: ignore[operator]
    return out


CLICK = re.compile(r"mouse (?:double )?click (?:left|right|middle) at (\d+), (\d+)")


def click_targets(db, data: Path, near: int = 3) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What the click steps name (issue 22): of the click steps, how many name a target (quoted text or an
    accessible name), name an icon by its place, or only a place; and the stated proxy for "the right one"
    (the dev set's ``clickable_area`` is null in this copy): the named text is an OCR item of the before frame
    (:func:`deskscribe.models.evidence.items`) whose box holds the click point (within ``near`` px). Beside it
    the true measure — the named item's centre inside the recorded ``clickable_area`` — over the clicks that
    have one ("not measurable" when none has)."""
    from benchlib import named_items
    from deskscribe.storage import descriptions as D
    from deskscribe.storage.actions import episode_actions
    from deskscribe.storage.boxes import decode

    truth = {e["episode"]: e for e in map(json.loads, (data / "episodes.jsonl").read_text().splitlines())}
    boxes = dict(db.conn.execute("SELECT f.id, c.ocr_boxes FROM frames f JOIN captions c ON c.image_hash = f.image_hash"))
    out: dict[str, object] = {"clicks": 0, "named": 0, "icons": 0, "places": 0, "at_point": 0, "with_area": 0,
                              "in_area": 0, "examples": []}
    for eid, ref in db.conn.execute("SELECT id, source_ref FROM episodes ORDER BY id").fetchall():
        areas = {(int(m.group(1)), int(m.group(2))): t.get("clickable_area")
                 for st in truth[Path(ref).name]["steps"] for t in st.get("targets", [])
                 if (m := CLICK.match(t["action"]))}
        desc = D.current_description(db, eid) or {"step_rows": []}
        rows = {r["event_id"]: r for r in desc["step_rows"]}
        for rec in episode_actions(db, eid):
            if rec.kind != "click" or rec.event_id not in rows:
                continue
            row, x, y = rows[rec.event_id], rec.event.x, rec.event.y  # type: ignore[attr-defined]
            out["clicks"] += 1  # type: ignore[operator]
            name = row["evidence"].get("target")
            out["icons"] += "the icon " in row["text"]  # type: ignore[operator]
            out["places"] += not name and "the icon " not in row["text"] and " of the screen" in row["text"]  # type: ignore[operator]
            if not name:
                continue
            out["named"] += 1  # type: ignore[operator]
            decoded = decode(boxes.get(rec.before))
            found = named_items(decoded[2] if decoded else [], name)
            hit = [i for i in found if i.x - near <= x <= i.x + i.w + near and i.y - near <= y <= i.y + i.h + near]
            out["at_point"] += bool(hit)  # type: ignore[operator]
            area = areas.get((x, y))
            if area:
                out["with_area"] += 1  # type: ignore[operator]
                centre = [(i.x + i.w / 2, i.y + i.h / 2) for i in hit or found]
                out["in_area"] += any(area[0] <= cx <= area[2] and area[1] <= cy <= area[3] for cx, cy in centre)  # type: ignore[operator]
            if not hit:
                out["examples"].append(f"{Path(ref).name[:8]} ({x}, {y}): {row['text']}")  # type: ignore[attr-defined]
    return out


def run(shared: Path, limit: int | None) -> dict[str, object]:
    from deskscribe.models.prompt import PROMPT_VERSION

    home = Path(tempfile.mkdtemp(prefix="describe-bench-"))
    os.environ["DESKSCRIBE_HOME"] = str(home)
    from deskscribe.capture.importer import import_folder
    from deskscribe.config import Config
    from deskscribe.storage.db import open_db

    data = shared / "data" / "screenagent-dev"
    folders = sorted(p for p in data.iterdir() if p.is_dir())[:limit]
    db = open_db(home / "deskscribe.db")
    for folder in folders:
        import_folder(db, folder, keep_typed_text=True)
    frames = db.conn.execute("SELECT count(*) FROM frames").fetchone()[0]
    cfg = Config()
    cfg.describe.compose = "model"  # SmolLM2 writes each task (the default, "auto", would not: see below)
    first, wall = timed_batch(db, cfg)
    t = first.timers
    OUT.mkdir(parents=True, exist_ok=True)
    quality = score(shared, OUT / "describe_predictions.jsonl") if predictions(db, OUT / "describe_predictions.jsonl") else {}
    noop, noop_wall = timed_batch(db, cfg)
    flagged = db.conn.execute("SELECT count(*) FROM descriptions WHERE review_reason IS NOT NULL").fetchone()[0]
    other, other_wall = timed_batch(db, cfg, compose="evidence")
    other_quality = {}
    if predictions(db, OUT / "describe_predictions_model.jsonl"):
        other_quality = score(shared, OUT / "describe_predictions_model.jsonl")
    # The privacy default: no typed text stored. Drop the text events and the drafts, describe again
    # (captions are cached, so this costs only the LLM calls) and score that too.
    db.conn.execute("DELETE FROM events WHERE kind = 'text'")
    db.conn.execute("DELETE FROM descriptions")
    db.conn.execute("DELETE FROM jobs")
    private, _ = timed_batch(db, cfg)
    private_flagged = db.conn.execute("SELECT count(*) FROM descriptions WHERE review_reason IS NOT NULL").fetchone()[0]
    private_quality = {}
    if predictions(db, OUT / "describe_predictions_no_typed_text.jsonl"):
        private_quality = score(shared, OUT / "describe_predictions_no_typed_text.jsonl")
    typing = typing_from_screen(db, data)
    targets = click_targets(db, data)
    default_res, default_wall = timed_batch(db, Config())  # what a user gets: "auto" (the steps write the task)
    default_quality = {}
    if predictions(db, OUT / "describe_predictions_default.jsonl"):
        default_quality = score(shared, OUT / "describe_predictions_default.jsonl")
    db.conn.close()
    shutil.rmtree(home, ignore_errors=True)
    return {
        "typing_from_screen": typing, "click_targets": targets,
        "quality_no_typed_text": {k: v for k, v in private_quality.items() if k != "report"},
        "quality_default": {k: v for k, v in default_quality.items() if k != "report"},
        "default_compose": default_res.compose, "default_llm_calls": default_res.timers.llm_calls,
        "default_redescribe_s": default_wall,
        "episodes": len(folders), "frames": frames, "failed": first.failed, "flagged": flagged,
        "failed_no_typed_text": private.failed, "flagged_no_typed_text": private_flagged,
        "score_report_no_typed_text": private_quality.get("report", ""),
        "wall_s": wall, "ocr_s": t.ocr_s, "llm_s": t.llm_s, "model_s": t.model_s,
        "overhead": wall / t.model_s if t.model_s else None,
        "ocr_s_per_frame": t.ocr_s / max(t.captions, 1), "captioned": t.captions, "cache_hits": t.cache_hits,
        "llm_s_per_episode": t.llm_s / max(len(first.done), 1), "llm_calls": t.llm_calls,
        "noop_rerun_s": noop_wall, "noop_rerun_described": len(noop.done),
        "cached_redescribe_s": other_wall, "cached_redescribe_ocr_s": other.timers.ocr_s,
        "cached_redescribe_llm_s": other.timers.llm_s, "cached_redescribe_captioned": other.timers.captions,
        "quality_hybrid": {k: v for k, v in quality.items() if k != "report"},
        "quality_model": {k: v for k, v in other_quality.items() if k != "report"},
        "score_report_hybrid": quality.get("report", ""), "score_report_model": other_quality.get("report", ""),
        "prompt_version": PROMPT_VERSION,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def _typing_md(t: dict[str, object]) -> str:
    return (f"Of {t['typed']} typing bursts the dataset records, {t['on_screen']} show their text on the burst's "
            f"after frame (OCR); the steps read {t['read']} of those back as write() text (≥ 0.9 similar; missed: "
            f"{t['missed']}). {t['writes']} texts read from the screen in all; matching nothing typed: {t['wrong']}.")


def _targets_md(t: dict[str, object]) -> str:
    n = t["clicks"] or 1
    area = (f"{t['in_area']} of {t['with_area']}" if t["with_area"] else "not measurable: clickable_area null")
    return "\n".join([
        "| click steps | value |", "|---|---|",
        f"| name a target (text item or accessible name) | {t['named']} of {t['clicks']} ({t['named'] / n:.0%}) |",  # type: ignore[operator]
        f"| name an icon by its place | {t['icons']} |", f"| only a place (nothing read there) | {t['places']} |",
        f"| name the text at the point (proxy: its OCR item box holds the point ±3 px) | {t['at_point']} of "
        f"{t['clicks']} ({t['at_point'] / n:.0%}) |",  # type: ignore[operator]
        f"| named text inside the recorded clickable_area (the true measure) | {area} |", "",
        "Named, but the point is beside the text (a row's or icon label's item): "
        + "; ".join(t["examples"]) + ".",  # type: ignore[operator]
    ])


def markdown(r: dict[str, object]) -> str:
    q, qm, qp, qd = r["quality_hybrid"], r["quality_model"], r["quality_no_typed_text"], r["quality_default"]
    lines = [
        "# describe benchmark (screenagent-dev, default offline models: OCR captions + SmolLM2-135M)", "",
        f"Prompt {r['prompt_version']}.",
        f"Machine: {r['machine']}. {r['episodes']} episodes, {r['frames']} frames, imported with typed text kept "
        "(the dev set's recorded actions). Failed: " + (", ".join(f"{k}: {v}" for k, v in r["failed"].items()) or "none"),  # type: ignore[union-attr]
        "", "| measure | value |", "|---|---|",
        f"| describe wall time | {r['wall_s']:.1f} s |",
        f"| time inside model calls (OCR + LLM) | {r['model_s']:.1f} s ({r['ocr_s']:.1f} + {r['llm_s']:.1f}) |",
        f"| overhead = wall ÷ model time (target ≤ 1.05) | {r['overhead']:.3f} |",
        f"| OCR per frame | {r['ocr_s_per_frame']:.2f} s ({r['captioned']} captioned, {r['cache_hits']} cache hits) |",
        f"| LLM per episode | {r['llm_s_per_episode']:.2f} s ({r['llm_calls']} calls) |",
        f"| no-op re-run (same model + prompt) | {r['noop_rerun_s']:.2f} s, {r['noop_rerun_described']} described |",
        f"| re-describe with captions cached (compose=evidence, no model) | {r['cached_redescribe_s']:.1f} s "
        f"(OCR {r['cached_redescribe_ocr_s']:.1f} s, {r['cached_redescribe_captioned']} frames captioned; "
        f"LLM {r['cached_redescribe_llm_s']:.1f} s) |",
        "", "## Typing read from the screen (typed text not stored)", "",
        _typing_md(r["typing_from_screen"]),  # type: ignore[arg-type]
        "", "## What the click steps name (typed text not stored)", "",
        _targets_md(r["click_targets"]),  # type: ignore[arg-type]
        "", "## Quality (shared/tools/score_descriptions.py; naive floor recall 0.333 / verb 0.312)", "",
        "| compose | key-entity recall | verb match |", "|---|---|---|",
        f"| model composes the task, typed text kept | {q.get('recall')} | {q.get('verb_match')} |",  # type: ignore[union-attr]
        f"| model composes the task, typed text not stored (the privacy default) | {qp.get('recall')} | "  # type: ignore[union-attr]
        f"{qp.get('verb_match')} |",  # type: ignore[union-attr]
        f"| evidence only (task written from the steps, no model), typed text kept | {qm.get('recall')} | "  # type: ignore[union-attr]
        f"{qm.get('verb_match')} |",  # type: ignore[union-attr]
        f"| the default (`describe.compose = \"auto\"`: {r['default_compose']} for the bundled model, "
        f"{r['default_llm_calls']} model calls), typed text not stored | {qd.get('recall')} | "  # type: ignore[union-attr]
        f"{qd.get('verb_match')} |",  # type: ignore[union-attr]
        "", f"Drafts flagged for review (model answer unusable or naming what the episode does not show, so the "
        f"task was written from the steps): {r['flagged']} of {r['episodes']} with typed text, "
        f"{r['flagged_no_typed_text']} of {r['episodes']} without; failed jobs without typed text: "
        f"{len(r['failed_no_typed_text']) or 'none'}.",  # type: ignore[arg-type]
        "", "### Per episode (model composing, typed text kept)", "", "```", str(r["score_report_hybrid"]).strip(),
        "```", "", "### Per episode (model composing, typed text not stored)", "", "```",
        str(r["score_report_no_typed_text"]).strip(), "```",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="the shared/ folder")
    ap.add_argument("--limit", type=int, default=None, help="only the first N episodes")
    args = ap.parse_args()
    r = run(args.shared.resolve(), args.limit)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "describe_bench.json").write_text(json.dumps(r, indent=2))
    (OUT / "describe_bench.md").write_text(markdown(r))
    print(markdown(r))


if __name__ == "__main__":
    main()
