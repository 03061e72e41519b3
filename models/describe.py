"""The describe pipeline: caption every frame (cached by image hash), then describe each episode once per
model run, through the resumable job queue.

One batch = models opened once, every queued episode processed in order, models closed at the end. Each
episode is its own job: a failure (bad model output twice, a model error) marks that job failed with a
one-line error and the batch goes on. Provenance: captions and descriptions point at a ``model_runs`` row
(model file + hash, backend, prompt version, parameters); a model run that already described an episode
never describes it again, and a new model or prompt version adds a new draft.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from deskscribe.config import Config
from deskscribe.errors import DeskscribeError
from deskscribe.models import facts as factlib
from deskscribe.models import pipeline
from deskscribe.models import prompt as promptlib
from deskscribe.models.base import Captioner, TextModel
from deskscribe.storage import descriptions as store
from deskscribe.storage import jobs
from deskscribe.storage.db import db_file
from deskscribe.storage.frames import episode_events, episode_frames, image_bytes

log = logging.getLogger(__name__)

JOB_KIND = "describe"
MAX_TOKENS = 200
COMPOSE_MODES = ("hybrid", "model")  # hybrid: model summary + steps from facts; model: both from the model
Progress = Callable[[int, int, int | None, str], None]


class BatchBusy(DeskscribeError):
    pass


@dataclass
class Timers:
    """Seconds spent inside model calls, to compare with the batch's wall time."""

    ocr_s: float = 0.0
    llm_s: float = 0.0
    captions: int = 0  # frames actually captioned (cache misses)
    cache_hits: int = 0
    llm_calls: int = 0

    @property
    def model_s(self) -> float:
        return self.ocr_s + self.llm_s


@dataclass
class BatchResult:
    total: int = 0
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    timers: Timers = field(default_factory=Timers)
    wall_s: float = 0.0

    def summary_line(self) -> str:
        if not self.total:
            return "nothing to describe"
        line = f"described {len(self.done)} of {self.total} episodes"
        if self.failed:
            first = next(iter(self.failed.items()))
            line += f"; {len(self.failed)} failed (episode {first[0]}: {first[1]}); retry with --retry-failed"
        return line


def caption_run(captioner: Captioner) -> store.ModelRun:
    info = captioner.info
    version = str(info.params.get("prompt_version") or info.params.get("caption") or "caption-v1")
    return store.ModelRun("caption", info.backend, info.model, info.sha256, version, dict(info.params))


def describe_run(text: TextModel, cap_run: store.ModelRun, cfg: Config, compose: str) -> store.ModelRun:
    info = text.info
    params = {**info.params, "captioner": cap_run.key, "max_prompt_frames": cfg.describe.max_prompt_frames,
              "compose": compose, "max_tokens": MAX_TOKENS}
    return store.ModelRun("describe", info.backend, info.model, info.sha256, promptlib.PROMPT_VERSION, params)


@dataclass
class Prepared:
    """An episode after the caption stage, ready for the text model."""

    episode_id: int
    frames: list[factlib.FrameView]
    facts: factlib.Facts


class Describer:
    """Describes episodes with one captioner and one text model (both already opened by the caller)."""

    def __init__(self, db: sqlite_utils.Database, cfg: Config, text: TextModel, captioner: Captioner,
                 compose: str = "hybrid") -> None:
        if compose not in COMPOSE_MODES:
            raise ValueError(f"compose must be one of {COMPOSE_MODES}")
        self.db, self.cfg, self.text, self.captioner, self.compose = db, cfg, text, captioner, compose
        self.cap_run = caption_run(captioner)
        self.cap_run_id = store.model_run_id(db, self.cap_run)
        self.run = describe_run(text, self.cap_run, cfg, compose)
        self.run_id = store.model_run_id(db, self.run)
        self.timers = Timers()

    def frames(self, episode_id: int) -> list[factlib.FrameView]:
        """The episode's frames with captions (captioning cache misses) and their input events."""
        by_frame: dict[int | None, list[dict[str, Any]]] = {}
        for ev in episode_events(self.db, episode_id):
            by_frame.setdefault(ev["frame_id"], []).append(ev)
        views = []
        for row in episode_frames(self.db, episode_id):
            view = factlib.FrameView(row["id"], row["ts"], row["app"], row["window_title"], row["image_hash"],
                                     events=by_frame.get(row["id"], []))
            view.caption, view.ocr_text = self.caption(view)
            views.append(view)
        return views

    def caption(self, frame: factlib.FrameView) -> tuple[str, str]:
        cached = store.caption_row(self.db, frame.image_hash, self.cap_run_id)
        if cached is not None:
            self.timers.cache_hits += 1
            return cached["text"], cached["ocr_text"] or ""
        data, _fmt = image_bytes(self.db, frame.image_hash)
        start = time.perf_counter()
        boxes: str | None = None
        with_boxes = getattr(self.captioner, "caption_with_boxes", None)  # the OCR captioner: keep its boxes
        if with_boxes is not None:
            text, ocr_text, boxes = with_boxes(data, app=frame.app, title=frame.title)
        else:
            text, ocr_text = self.captioner.caption(data, app=frame.app, title=frame.title)
        self.timers.ocr_s += time.perf_counter() - start
        self.timers.captions += 1
        store.put_caption(self.db, frame.image_hash, self.cap_run_id, text, ocr_text, ocr_boxes=boxes)
        return text, ocr_text or ""

    def _budget_chars(self) -> int:
        n_ctx = int(self.text.info.params.get("n_ctx") or self.cfg.models.n_ctx)
        return min(promptlib.PROMPT_BUDGET_CHARS, int((n_ctx - MAX_TOKENS - 100) * 2.5))

    def ask(self, facts: factlib.Facts, frames: list[factlib.FrameView]) -> tuple[str, list[str]]:
        """The model's (summary, steps); invalid output is retried once with a stricter prompt, then raised."""
        shown = promptlib.select_frames(frames, self.cfg.describe.max_prompt_frames)
        error: promptlib.InvalidOutput | None = None
        for strict in (False, True):
            if self.compose == "hybrid":
                messages = promptlib.build_task_messages(facts, shown, strict=strict)
                schema, max_tokens = promptlib.TASK_SCHEMA, 120
            else:
                messages = promptlib.build_messages(facts, shown, budget_chars=self._budget_chars(), strict=strict)
                schema, max_tokens = promptlib.SCHEMA, MAX_TOKENS
            start = time.perf_counter()
            try:
                raw = self.text.complete(messages, schema=schema, max_tokens=max_tokens)
            finally:
                self.timers.llm_s += time.perf_counter() - start
                self.timers.llm_calls += 1
            try:
                summary, steps = promptlib.parse_answer(raw)
                if self.compose == "hybrid":
                    summary = promptlib.compose_summary(summary, factlib.main_apps(facts), facts.titles)
                return summary, steps
            except promptlib.InvalidOutput as exc:
                log.info("invalid model output (%s), %s", exc, "giving up" if strict else "retrying")
                error = exc
        assert error is not None
        raise error

    def describe(self, episode_id: int) -> int | None:
        """Describe one episode under this model run; returns the new revision, None when it already had one."""
        prepared = self.prepare(episode_id)
        return None if prepared is None else self.save(prepared, self.infer(prepared))

    # The three stages of describe(), split so models/pipeline.py can overlap them across episodes.
    def prepare(self, episode_id: int) -> Prepared | None:
        """Caption stage (database + captioner): the episode's captioned frames and facts; None if done."""
        if episode_id in jobs.described_by(self.db, self.run_id):
            return None
        frames = self.frames(episode_id)
        if not frames:
            raise promptlib.InvalidOutput(f"episode {episode_id} has no frames")
        return Prepared(episode_id, frames, factlib.extract(frames))

    def infer(self, prepared: Prepared) -> tuple[str, list[str]]:
        """Describe stage: text-model calls only, no database (it may run in the pipeline's worker thread)."""
        return self.ask(prepared.facts, prepared.frames)

    def save(self, prepared: Prepared, answer: tuple[str, list[str]]) -> int:
        summary, steps = answer
        if self.compose == "hybrid" and prepared.facts.steps:
            steps = prepared.facts.steps[: promptlib.MAX_STEPS + 4]
        return store.add_description(self.db, prepared.episode_id, summary, steps, author="model",
                                     model_run_id=self.run_id)


@contextlib.contextmanager
def batch_lock(db: sqlite_utils.Database) -> Iterator[None]:
    """One describe batch per database at a time (the tray's idle runner and a manual run must not race)."""
    path = db_file(db)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the job queue's atomic claim still prevents double work
        yield
        return
    if path is None:
        yield
        return
    with open(f"{path}.describe.lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BatchBusy("another `deskscribe describe` is running on this database; wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def open_captioner(cfg: Config) -> Captioner:
    """The configured frame captioner: OCR by default, the VLM when ``models.captioner = "vlm"``."""
    if cfg.models.captioner == "vlm":
        from deskscribe.models.loader import open_vlm_captioner

        return open_vlm_captioner(cfg.models)
    from deskscribe.models.ocr import OcrCaptioner

    return OcrCaptioner(threads=cfg.models.n_threads)


def open_text(cfg: Config) -> TextModel:
    from deskscribe.models.loader import open_text_model

    return open_text_model(cfg.models)


def _queue(db: sqlite_utils.Database, describer: Describer, episodes: list[int] | None, retry: bool) -> list[int]:
    """Queue every closed episode (or those named) that this model run has not described; returns targets."""
    targets = jobs.closed_episodes(db, episodes)
    if episodes is not None:
        missing = sorted(set(episodes) - set(targets))
        if missing:
            log.warning("episodes %s do not exist or are still being captured", missing)
    described = jobs.described_by(db, describer.run_id)
    todo = [t for t in targets if t not in described]
    jobs.enqueue(db, JOB_KIND, todo, describer.run.key)
    if retry:
        jobs.retry_failed(db, JOB_KIND, describer.run.key, todo)
    queued = []
    for target in todo:
        job = jobs.get_job(db, JOB_KIND, target, describer.run.key)
        if job is not None and job.state == "done":  # done, but its description was removed since
            jobs.requeue(db, job.id)
            queued.append(target)
        elif job is not None and job.state == "queued":
            queued.append(target)
    return queued


def run_batch(
    db: sqlite_utils.Database,
    cfg: Config,
    episodes: list[int] | None = None,
    *,
    retry_failed: bool = False,
    progress: Progress | None = None,
    text: TextModel | None = None,
    captioner: Captioner | None = None,
    compose: str = "hybrid",
    overlap: bool | None = None,
) -> BatchResult:
    """Describe the backlog (or ``episodes``); opens the configured models unless given, closes what it opened.

    Model loading errors (a missing or corrupt file, a server that is down) raise ModelError for the batch.
    The text model of one episode runs while the next is captioned (models/pipeline.py) when the thread
    budget allows it; ``overlap`` forces it on or off.
    """
    if overlap is None:
        overlap = pipeline.should_overlap(cfg.models.n_threads, os.cpu_count() or 1)
    result = BatchResult()
    start = time.perf_counter()
    with batch_lock(db):
        stale = jobs.requeue_stale(db, JOB_KIND)
        if stale:
            log.info("re-queued %d describe jobs left running by a stopped process", stale)
        owned: list[Any] = []
        try:
            if captioner is None:
                captioner = open_captioner(cfg)
                owned.append(captioner)
            if text is None:
                text = open_text(cfg)
                owned.append(text)
            describer = Describer(db, cfg, text, captioner, compose)
            todo = _queue(db, describer, episodes, retry_failed)
            result.total = len(todo)
            result.timers = describer.timers
            _process(db, describer, todo, result, progress, overlap)
        finally:
            for model in reversed(owned):
                model.close()
    result.wall_s = time.perf_counter() - start
    return result


def _process(db: sqlite_utils.Database, describer: Describer, todo: list[int], result: BatchResult,
             progress: Progress | None, overlap: bool) -> None:
    n = 0
    if progress:
        progress(0, len(todo), None, f"{len(todo)} episodes to describe")

    def claim() -> jobs.Job | None:
        return jobs.claim(db, JOB_KIND, describer.run.key, todo)

    def settle(job: jobs.Job, exc: Exception | None) -> None:
        nonlocal n
        if exc is None:
            jobs.done(db, job.id)
            result.done.append(job.target)
            message = "described"
        elif isinstance(exc, (DeskscribeError, promptlib.InvalidOutput)):
            jobs.fail(db, job.id, str(exc))
            result.failed[job.target] = str(exc)
            message = f"failed: {exc}"
        else:  # a bug: keep the traceback in the log, keep going with the others
            log.error("describing episode %s failed", job.target, exc_info=exc)
            jobs.fail(db, job.id, f"{exc.__class__.__name__}: {exc}")
            result.failed[job.target] = f"{exc.__class__.__name__}: {exc}"
            message = f"failed: {exc.__class__.__name__}: {exc}"
        n += 1
        if progress:
            progress(n, len(todo), job.target, message)

    stages = pipeline.Stages(prepare=lambda job: describer.prepare(job.target), infer=describer.infer,
                             save=describer.save)
    pipeline.run(claim, stages, settle, overlap=overlap)
