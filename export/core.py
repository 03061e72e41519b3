"""The export loop: stream episodes from the database (read-only), redact, pair, split, hand to a writer.

Everything is written into a temporary folder beside OUT_DIR and renamed into place only when the export
is complete, nothing flagged remains (or the person allowed it) and a read-back scan of every written file
finds nothing (export.scan), so a failed or refused export leaves nothing half-written behind; the manifest
(``deskscribe-export.json``) is written last. An export killed outright leaves its folder behind: the next
export to the same OUT_DIR removes it (export.partial).
"""

from __future__ import annotations

import dataclasses
import errno
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from deskscribe import __version__
from deskscribe.errors import ExportError
from deskscribe.export import pairs, partial, registry
from deskscribe.export.images import ImageProcessor, OcrEngine, ocr_engine_version
from deskscribe.export.redact import Redactor, Report
from deskscribe.export.scan import refusal as scan_refusal
from deskscribe.export.scan import scan_output
from deskscribe.export.splits import split_of, validation_episodes
from deskscribe.export.trajectory_export import trajectory_export
from deskscribe.export.writer import ExportSummary
from deskscribe.models.ocr_engine import DEFAULT_ENGINE
from deskscribe.storage import export_queries as q
from deskscribe.storage.frames import image_bytes

MARKER = "deskscribe-export.json"
Progress = Callable[[int, int, str], None]


@dataclass
class ExportOptions:
    include_unreviewed: bool = False
    max_images: int = 10
    max_side: int = 1024  # 0 = keep the stored size
    val_fraction: float = 0.1
    seed: int = 0
    allow_flagged: bool = False
    force: bool = False
    # Turning image redaction off exports screenshots unchecked: UNSAFE, for benchmarks only (not in the CLI).
    redact_images: bool = True
    batch_size: int = 64
    license: str = "other"
    mark_actions: bool = False  # trajectories: also a copy of each before-frame with the action point drawn
    ocr_engine: str = DEFAULT_ENGINE  # models.ocr_engine: redaction reads pixels with describe's engine


@dataclass
class ExportResult:
    out_dir: Path
    summary: ExportSummary
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)


def check_options(fmt: str, opts: ExportOptions) -> None:
    most = registry.get(fmt).load().max_images
    if opts.max_images < 1:
        raise ExportError(f"--max-images must be at least 1 (got {opts.max_images})")
    if most is not None and opts.max_images > most:
        raise ExportError(f"the {fmt} format allows at most {most} images per example: "
                          f"use --max-images {most} or fewer")
    if opts.max_side < 0 or 0 < opts.max_side < 32:
        raise ExportError(f"--max-side must be 0 (keep) or at least 32 pixels (got {opts.max_side})")
    if not 0 <= opts.val_fraction < 1:
        raise ExportError(f"--val-fraction must be at least 0 and below 1 (got {opts.val_fraction})")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.+\-]*", opts.license):
        raise ExportError("--license must be a license id such as other, cc-by-4.0 or apache-2.0 "
                          f"(got {opts.license!r})")


def check_out_dir(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not force:
            raise ExportError(f"{out_dir} is not empty: choose an empty folder, "
                              "or --force to replace an earlier export")
        if not (out_dir / MARKER).exists():
            raise ExportError(f"{out_dir} holds files that are not a deskscribe export; --force replaces only an "
                              "earlier export: choose an empty folder")


def _redact_bundle(red: Redactor, ep: dict[str, Any], frames: list[dict[str, Any]], events: list[dict[str, Any]],
                   history: list[dict[str, Any]], full: bool) -> None:
    """Redact in place every text field the chosen format writes (``full``: the jsonl dump writes all)."""
    eid = ep["id"]
    for f in frames:
        where = {"episode": eid, "frame": f["id"]}
        f["caption"] = red.text(f["caption"], {**where, "field": "caption"})
        if full:
            for key in ("window_title", "app", "ocr_text"):
                f[key] = red.text(f[key], {**where, "field": key})
    if full:
        ep["apps"] = [red.text(a, {"episode": eid, "field": "apps"}) for a in ep["apps"]]
        for e in events:
            place = {"episode": eid, "frame": e["frame_id"], "field": f"event {e['kind']}"}
            e["details"] = red.value(e["details"], place)
    for d in history:
        where = {"episode": eid, "revision": d["revision"]}
        d["summary"] = red.text(d["summary"], {**where, "field": "summary"})
        d["steps"] = [red.text(str(s), {**where, "field": "steps"}) for s in d["steps"]]
        d["step_rows"] = [{**r, "text": red.text(str(r["text"]), {**where, "field": "steps"}),
                           "evidence": red.value(r["evidence"], {**where, "field": "step evidence"})}
                          for r in d.get("step_rows") or []]


class _Run:
    """One export in progress (kept as an object so the loop functions stay short)."""

    def __init__(self, db: sqlite_utils.Database, fmt: str, tmp: Path, opts: ExportOptions, ocr: OcrEngine | None):
        self.db, self.fmt, self.opts = db, fmt, opts
        self.report = Report()
        self.red = Redactor(self.report)
        options = {k: v for k, v in dataclasses.asdict(opts).items() if k not in ("force", "batch_size")}
        self.writer = registry.make_writer(fmt, tmp, options)
        media = tmp / (self.writer.media_subdir or ".stage")
        media.mkdir(parents=True, exist_ok=True)
        self.stage = None if self.writer.media_subdir else media
        engine = ocr_engine_version(opts.ocr_engine)
        stored = (lambda h: q.stored_ocr_boxes(db, h, engine)) if engine else None
        self.images = ImageProcessor(lambda h: image_bytes(db, h), media, self.report, max_side=opts.max_side,
                                     redact_images=opts.redact_images,
                                     ocr=ocr or OcrEngine(opts.ocr_engine), stored_ocr=stored)
        self.dedupe = pairs.Deduper()
        self.summary = ExportSummary(fmt, options)
        self.traj = trajectory_export(db, fmt, tmp, self.writer, options, self.images, self.red)

    def episode(self, ep: dict[str, Any], frames: list[dict[str, Any]], events: list[dict[str, Any]],
                history: list[dict[str, Any]], split: str) -> None:
        o = self.opts
        if not frames or self.dedupe.episode_is_duplicate(ep["id"], frames, history, o.max_images):
            return
        _redact_bundle(self.red, ep, frames, events, history, self.writer.dumps_episodes)
        self.summary.episodes += 1
        if self.traj is not None:
            self.traj.episode(ep, frames, history, split)
        where = {"episode": ep["id"]}
        if self.writer.dumps_episodes:
            by_hash = {f["image_hash"]: self.images.get(f["image_hash"], where) for f in frames}
            self.writer.add_episode({**ep, "frames": frames, "events": events, "descriptions": history}, split,
                                    by_hash)
            return
        examples = pairs.episode_examples(ep, frames, history, max_images=o.max_images,
                                          include_unreviewed=o.include_unreviewed)
        examples += [c for c in pairs.caption_examples(ep, frames, o.include_unreviewed) if self.dedupe.keep_caption(c)]
        for ex in examples:
            if ex.kind in self.writer.kinds:
                imgs = [self.images.get(h, where) for h in self.writer.image_hashes(ex)]
                self.writer.add_example(ex, split, imgs)

    def finish(self, tmp: Path) -> None:
        self.writer.close()
        s = self.summary
        s.counts = self.writer.counts
        if self.traj is not None:
            self.traj.close()
            s.counts = {**s.counts, **self.traj.counts}
        s.duplicates_removed = self.dedupe.dropped_episodes
        s.captions_deduped = self.dedupe.dropped_captions
        s.redaction_counts = dict(self.report.found)
        s.remaining = len(self.report.remaining)
        s.images = self.images.stats["images"]
        s.image_bytes = self.images.stats["written_bytes"]
        s.skipped = {**getattr(self.writer, "skipped", {}), **(self.traj.skipped_summary() if self.traj else {})}
        if self.stage is not None:
            shutil.rmtree(self.stage)
        (tmp / "README.md").write_text(self.writer.card(s) + (self.traj.card() if self.traj else ""),
                                       encoding="utf-8")
        (tmp / "redaction_report.json").write_text(json.dumps(self.report.to_json(), indent=1), encoding="utf-8")

    def mark_complete(self, tmp: Path) -> None:
        """The manifest, written last (after the read-back scan): a folder without it is not a finished export."""
        marker = {"deskscribe": __version__, "format": self.fmt, **dataclasses.asdict(self.summary)}
        (tmp / MARKER).write_text(json.dumps(marker, indent=1, default=str), encoding="utf-8")

    def scan(self, tmp: Path) -> None:
        """Read back the whole output (see export.scan); any hit refuses, --allow-flagged or not."""
        started = time.perf_counter()
        findings, stats = scan_output(tmp, self.images.ocr if self.opts.redact_images else None)
        self.images.stats.update({f"scan_{k}": v for k, v in stats.items()},
                                 scan_ms=int((time.perf_counter() - started) * 1000))
        if findings:
            raise ExportError(scan_refusal(findings))


def _refusal(report: Report) -> str:
    places = "; ".join(f"{e['kind']} in {json.dumps(e['where'], sort_keys=True)}" for e in report.remaining[:3])
    more = f" and {len(report.remaining) - 3} more" if len(report.remaining) > 3 else ""
    return (f"export refused: {len(report.remaining)} flagged item(s) could not be redacted ({places}{more}); "
            "remove them (edit the description or delete the frames) or rerun with --allow-flagged")


def export(db: sqlite_utils.Database, fmt: str, out_dir: Path | str, opts: ExportOptions | None = None,
           progress: Progress | None = None, ocr: OcrEngine | None = None) -> ExportResult:
    """Write the dataset for ``fmt`` into ``out_dir`` (read-only on ``db``); see the module docstring."""
    opts = opts or ExportOptions()
    out_dir = Path(out_dir).expanduser().absolute()
    check_options(fmt, opts)
    check_out_dir(out_dir, opts.force)
    started = time.perf_counter()
    ids = q.export_episode_ids(db, opts.include_unreviewed)
    if not ids:
        raise ExportError(
            "nothing to export: no finished episodes yet" if opts.include_unreviewed else
            "nothing to export: no accepted or edited episodes yet; review some (deskscribe review) "
            "or pass --include-unreviewed")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        partial.remove_stale(out_dir)
        tmp, lock = partial.make(out_dir)
    except OSError as exc:
        raise ExportError(f"cannot write beside {out_dir}: {exc.strerror or exc}") from exc
    try:
        run = _Run(db, fmt, tmp, opts, ocr)
        val = validation_episodes(ids, opts.val_fraction, opts.seed)
        done = 0
        if progress:
            progress(0, len(ids), "starting")
        for batch in q.iter_episode_batches(db, opts.include_unreviewed, opts.batch_size):
            batch_ids = [e["id"] for e in batch]
            frames, events = q.frames_for(db, batch_ids), q.events_for(db, batch_ids)
            history = q.descriptions_for(db, batch_ids)
            for ep in batch:
                eid = ep["id"]
                run.episode(ep, frames[eid], events[eid], history[eid], split_of(eid, val))
                done += 1
                if progress:
                    progress(done, len(ids), f"episode {eid}")
        run.finish(tmp)
        if run.report.remaining and not opts.allow_flagged:
            raise ExportError(_refusal(run.report))
        run.scan(tmp)
        run.mark_complete(tmp)
        _move_into_place(tmp, out_dir)
        partial.finish(lock)
    except OSError as exc:
        partial.discard(tmp, lock)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ExportError(f"export to {out_dir} failed: the disk is full; free some space or export to "
                              "another disk (nothing was written)") from exc
        raise ExportError(f"export to {out_dir} failed: {exc.strerror or exc}") from exc
    except BaseException:
        partial.discard(tmp, lock)
        raise
    if progress:
        progress(len(ids), len(ids), f"done: {out_dir}")
    return ExportResult(out_dir, run.summary, time.perf_counter() - started, dict(run.images.stats))


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{tmp.name[-8:]}")
        out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out_dir)
