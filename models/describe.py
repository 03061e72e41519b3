"""The describe pipeline: caption every frame (cached by image hash), then describe each episode once per
model run, through the resumable job queue.

One batch = models opened once, every queued episode processed in order, models closed at the end. Each
episode is its own job. Its steps come from the evidence (:mod:`steps`); the model writes the task in two
forms, checked against the evidence (:mod:`check`); an answer that cannot be read is retried once; an
unfounded one, or a second unreadable one, has the task written from the steps and the draft stored flagged
for review — a bad answer never leaves an episode without a description. A model error (a crashed backend, a
server that is down) fails that job with a one-line error and the batch goes on. Provenance: captions and
descriptions point at a ``model_runs`` row (model file + hash, backend, prompt version, parameters); a model
run that already described an episode never describes it again, and a new model or prompt version adds a new
draft.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from deskscribe.config import Config
from deskscribe.errors import DeskscribeError
from deskscribe.models import check as checklib
from deskscribe.models import evidence as evlib
from deskscribe.models import facts as factlib
from deskscribe.models import marks, pipeline
from deskscribe.models import prompt as promptlib
from deskscribe.models import registry as model_registry
from deskscribe.models import steps as steplib
from deskscribe.models.base import Captioner, TextModel
from deskscribe.storage import boxes as boxlib
from deskscribe.storage import descriptions as store
from deskscribe.storage import episodes as episode_queries
from deskscribe.storage import events as ev
from deskscribe.storage import jobs
from deskscribe.storage.actions import episode_actions, events_on
from deskscribe.storage.db import db_file
from deskscribe.storage.frames import episode_frames, get_episode, image_bytes
from deskscribe.storage.locks import FileLock, LockBusy
from deskscribe.storage.steps import AUTHOR_STEPS, StepIn

log = logging.getLogger(__name__)

JOB_KIND = "describe"
# An answer is two sentences in JSON: the longer worked example is 45 tokens. One the model has not finished by
# MAX_TOKENS is not what was asked (SmolLM2-135M's rambles run to ~100 tokens, 0.015-0.02 s each on 2 cores).
MAX_TOKENS = 80
# An answer the check rejects is not asked again: on the dev set the second answer passed for 0 of 14 such
# episodes (bench/results/describe_bench.md, stop 16) while the retry took nearly half the model time of a
# day (bench/results/day_bench.md). An answer that cannot be read is asked again, with the problem stated.
RETRY_UNFOUNDED = False
GROUNDING = 0.5  # least share of an answer's content words that the steps, apps and titles contain
# describe.compose: "model" (the model writes the task, did + instruction, checked against the evidence),
# "evidence" (the task is written from the steps with no model call) or "auto" (see resolve_compose)
COMPOSE_MODES = tuple(model_registry.COMPOSERS)
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
    compose: str = ""  # who wrote the tasks: "model" or "evidence" (describe.compose, resolved)

    def summary_line(self) -> str:
        if not self.total:
            return "nothing to describe"
        line = f"described {len(self.done)} of {self.total} episodes"
        if self.compose == "evidence":
            line += " (tasks written from the steps, no text model: describe.compose)"
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
              "compose": compose, "max_tokens": MAX_TOKENS, "task_by": "vlm" if sees(cap_run) else "text"}
    return store.ModelRun("describe", info.backend, info.model, info.sha256, promptlib.PROMPT_VERSION, params)


def resolve_compose(mode: str, text: TextModel, cap_run: store.ModelRun) -> str:
    """The composer ``mode`` stands for: "auto" is "evidence" when the text model is the bundled SmolLM2-135M
    and no VLM looks at the frames, else "model".

    The bundled model is the offline default so that describe runs anywhere, not because it writes well: the
    evidence check rejected its answer for 15-16 of 16 dev-set episodes and 17-18 of the 20 of a simulated
    day (those it passed said no more than the steps: "Clicked in Xedit."), so the task was written from the
    steps anyway, after 2.5-4 s of model time per episode — about two thirds of the time describing that day
    took (bench/results/describe_bench.md, day_bench.md). A model the person chose (a bigger GGUF, a server, a
    VLM) writes the task.
    """
    from deskscribe.models.manager import BUNDLED_FILE

    if mode != "auto":
        return mode
    if sees(cap_run):
        return "model"
    return "evidence" if text.info.backend == "llama_cpp" and text.info.model == BUNDLED_FILE else "model"


def messages_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last (the episode's) user message, whether plain or with images."""
    content = messages[-1]["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def sees(cap_run: store.ModelRun) -> bool:
    """True when the captioner is a vision-language model: it then writes the task, looking at the frames."""
    return "mmproj" in cap_run.params


@dataclass
class Prepared:
    """An episode after the caption stage, ready for the text model."""

    episode_id: int
    frames: list[factlib.FrameView]
    steps: list[steplib.Step]
    facts: factlib.Facts
    evidence: str
    images: list[bytes] | None = None

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.steps]


class Describer:
    """Describes episodes with one captioner and one text model (both already opened by the caller)."""

    def __init__(self, db: sqlite_utils.Database, cfg: Config, text: TextModel, captioner: Captioner,
                 compose: str = "model") -> None:
        if compose not in COMPOSE_MODES:
            raise ValueError(f"compose must be one of {COMPOSE_MODES}")
        self.db, self.cfg, self.text, self.captioner = db, cfg, text, captioner
        self.cap_run = caption_run(captioner)
        self.compose = resolve_compose(compose, text, self.cap_run)
        self.cap_run_id = store.model_run_id(db, self.cap_run)
        self.run = describe_run(text, self.cap_run, cfg, self.compose)
        self.run_id = store.model_run_id(db, self.run)
        self.timers = Timers()
        self._last: tuple[bytes, str] | None = None  # the previous frame, image + boxes, for change-only OCR

    def frames(self, episode_id: int, acted: set[int] = frozenset()) -> list[factlib.FrameView]:  # type: ignore[assignment]
        """The episode's frames with captions (captioning cache misses); ``acted``: ids of frames around actions."""
        views = []
        self._last = None
        for row in episode_frames(self.db, episode_id):
            view = factlib.FrameView(row["id"], row["ts"], row["app"], row["window_title"], row["image_hash"],
                                     acted=row["id"] in acted)
            view.caption, view.ocr_text = self.caption(view, self._last)
            decoded = boxlib.decode(store.caption_boxes(self.db, view.image_hash, self.cap_run_id))
            view.boxes = decoded[2] if decoded else []
            views.append(view)
        return views

    def caption(self, frame: factlib.FrameView, previous: tuple[bytes, str] | None = None) -> tuple[str, str]:
        cached = store.caption_row(self.db, frame.image_hash, self.cap_run_id)
        self._last = None
        if cached is not None:
            self.timers.cache_hits += 1
            return cached["text"], cached["ocr_text"] or ""
        data, _fmt = image_bytes(self.db, frame.image_hash)
        start = time.perf_counter()
        boxes: str | None = None
        with_boxes = getattr(self.captioner, "caption_with_boxes", None)  # the OCR captioner: keep its boxes
        if with_boxes is not None:  # given the previous frame, it OCRs only what changed (models/ocr_diff.py)
            text, ocr_text, boxes = with_boxes(data, app=frame.app, title=frame.title, previous=previous)
        else:
            text, ocr_text = self.captioner.caption(data, app=frame.app, title=frame.title)
        self.timers.ocr_s += time.perf_counter() - start
        self.timers.captions += 1
        store.put_caption(self.db, frame.image_hash, self.cap_run_id, text, ocr_text, ocr_boxes=boxes)
        self._last = (data, boxes) if boxes else None
        return text, ocr_text or ""

    def evidence(self, episode_id: int) -> tuple[list[factlib.FrameView], list[evlib.Action], list[steplib.Step],
                                                 factlib.Facts, str]:
        """The episode's frames, its actions (storage/actions.py) with their frames' views, one step per action,
        facts (apps, titles) and the text a description may name."""
        records = episode_actions(self.db, episode_id)
        frames = self.frames(episode_id, {f for r in records for f in (r.before, r.after) if f is not None})
        if not frames:
            raise promptlib.InvalidOutput(f"episode {episode_id} has no frames")
        episode = get_episode(self.db, episode_id) or {}
        acts = evlib.actions(records, frames, events_on(episode.get("source")))
        steps = steplib.episode_steps(acts, frames, self.cfg.privacy.typed_from_screen)
        details = [json.dumps(ev.to_details(r.event), ensure_ascii=False) + " " + (r.typed or "") for r in records]
        texts = [s.text for s in steps]
        return frames, acts, steps, factlib.extract(frames), checklib.corpus(frames, texts, details)

    def ask(self, facts: factlib.Facts, steps: list[str], frames: list[factlib.FrameView], evidence: str,
            images: list[bytes] | None = None) -> tuple[str, str, str | None]:
        """(did, instruction, review reason): the model's task when usable and checked, else one from the steps.

        An answer that cannot be read is retried once with the problem stated; one that names something the
        evidence lacks, copies the prompt's example or is not about the steps is not (see RETRY_UNFOUNDED). Then
        the task is written from the evidence steps and flagged with the reason.
        """
        shown = promptlib.select_frames(frames, self.cfg.describe.max_prompt_frames)
        problem: str | None = None
        for strict in (False, True):
            messages = promptlib.build_task_messages(facts, steps, shown, strict=strict, problem=problem)
            model: Any = self.text
            if images:
                model = self.captioner
                messages = promptlib.with_images(messages, images, promptlib.IMAGES_NOTE)
            start = time.perf_counter()
            try:
                raw = model.complete(messages, schema=promptlib.TASK_SCHEMA, max_tokens=MAX_TOKENS)
            finally:
                self.timers.llm_s += time.perf_counter() - start
                self.timers.llm_calls += 1
            if int((getattr(model, "last_usage", None) or {}).get("completion_tokens", 0)) >= MAX_TOKENS:
                problem = f"the model's answer ran past {MAX_TOKENS} tokens (one sentence each was asked)"
                break  # a rambling answer rambles again when asked again
            try:
                did, instruction = promptlib.parse_task(raw)
            except promptlib.InvalidOutput as exc:
                problem = str(exc)
            else:
                missing = checklib.absent(f"{did} {instruction}", evidence, facts.apps)
                copied = checklib.borrowed(f"{did} {instruction}", promptlib.EXAMPLES_TEXT, messages_text(messages))
                basis = " ".join([*steps, *facts.apps, *facts.titles])
                loose = [t for t in (did, instruction) if checklib.grounding(t, basis) < GROUNDING]
                if not missing and not copied and not loose:
                    return did, instruction, None
                if missing:
                    problem = "the model's answer names what the episode does not show: " + ", ".join(missing[:3])
                elif copied:
                    problem = "the model's answer copies the prompt's example: " + ", ".join(copied[:3])
                else:
                    problem = f"the model's answer is not about the steps: {loose[0][:60]!r}"
                if not RETRY_UNFOUNDED:
                    break
            if not strict:
                log.info("%s, retrying", problem)
        log.info("%s, writing the task from the steps", problem)
        did, instruction = steplib.task_from_steps(steps, factlib.main_apps(facts))
        return did, instruction, problem

    def marked_images(self, frames: list[factlib.FrameView], acts: list[evlib.Action]) -> list[bytes]:
        """For a VLM: the frame before the first click with the point ringed, a crop around it, the last frame."""
        images: list[bytes] = []
        for action in acts:
            point = (getattr(action.event, "x", None), getattr(action.event, "y", None))
            if action.before is not None and None not in point:
                data, _fmt = image_bytes(self.db, action.before.image_hash)
                images += list(marks.mark_point(data, int(point[0]), int(point[1])))  # type: ignore[arg-type]
                break
        images.append(image_bytes(self.db, frames[-1].image_hash)[0])
        return images

    def describe(self, episode_id: int) -> int | None:
        """Describe one episode under this model run; returns the new revision, None when it already had one."""
        prepared = self.prepare(episode_id)
        return None if prepared is None else self.save(prepared, self.infer(prepared))

    # The three stages of describe(), split so models/pipeline.py can overlap them across episodes.
    def prepare(self, episode_id: int) -> Prepared | None:
        """Caption stage (database + captioner): frames, evidence steps, facts, images; None if already done."""
        if episode_id in episode_queries.described_by(self.db, self.run_id):
            return None
        frames, acts, steps, facts, evidence = self.evidence(episode_id)
        images = None
        if self.compose != "evidence" and sees(self.cap_run):
            images = self.marked_images(frames, acts)
        return Prepared(episode_id, frames, steps, facts, evidence, images)

    def infer(self, p: Prepared) -> tuple[str, str, str | None]:
        """Describe stage: text-model calls only, no database (it may run in the pipeline's worker thread)."""
        if self.compose == "evidence":
            did, instruction = steplib.task_from_steps(p.texts, factlib.main_apps(p.facts))
            return did, instruction, None
        return self.ask(p.facts, p.texts, p.frames, p.evidence, p.images)

    def save(self, p: Prepared, answer: tuple[str, str, str | None]) -> int:
        """Store the description with one step per action (every action: none is cut), authored by the step
        writer."""
        did, instruction, reason = answer
        rows = [StepIn(s.text, s.event_id, AUTHOR_STEPS, s.evidence) for s in p.steps]
        return store.add_description(self.db, p.episode_id, did, rows, author="model",
                                     model_run_id=self.run_id, instruction=instruction, review_reason=reason)


@contextlib.contextmanager
def batch_lock(db: sqlite_utils.Database) -> Iterator[None]:
    """One describe batch per database at a time (the tray's idle runner and a manual run must not race)."""
    path = db_file(db)
    if path is None:  # an in-memory database has no other process to race with
        yield
        return
    try:
        lock = FileLock(Path(f"{path}.describe.lock"))
        lock.acquire()
    except LockBusy as exc:
        raise BatchBusy("another `deskscribe describe` is running on this database; wait for it to finish") from exc
    try:
        yield
    finally:
        lock.release()


def open_captioner(cfg: Config) -> Captioner:
    """The configured frame captioner (``models.captioner``: OCR by default; see models/registry.py)."""
    from deskscribe.models.registry import open_captioner as _open

    return _open(cfg.models)


def open_text(cfg: Config) -> TextModel:
    from deskscribe.models.registry import open_text_model

    return open_text_model(cfg.models)


def _queue(db: sqlite_utils.Database, describer: Describer, episodes: list[int] | None, retry: bool) -> list[int]:
    """Queue every closed episode (or those named) that this model run has not described; returns targets."""
    targets = episode_queries.closed_episodes(db, episodes)
    if episodes is not None:
        missing = sorted(set(episodes) - set(targets))
        if missing:
            log.warning("episodes %s do not exist or are still being captured", missing)
    described = episode_queries.described_by(db, describer.run_id)
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
    compose: str | None = None,
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
            describer = Describer(db, cfg, text, captioner, compose or cfg.describe.compose)
            result.compose = describer.compose
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

    stages: pipeline.Stages[jobs.Job, Prepared, tuple[str, str, str | None]] = pipeline.Stages(
        prepare=lambda job: describer.prepare(job.target), infer=describer.infer, save=describer.save)
    pipeline.run(claim, stages, settle, overlap=overlap)
