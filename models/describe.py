"""The describe pipeline: caption every frame (cached by image hash), then describe each episode once per
model run, through the resumable job queue.

One batch = models opened once, every queued episode processed in order, models closed at the end. Each
episode is its own job. Its steps come from the evidence (:mod:`steps`); the task is written as JSON by a
capable model (:mod:`task`; who writes it: :func:`resolve_compose`), checked against the evidence (:mod:`check`),
else from the steps, flagged for review — a bad answer never leaves an episode without a description. A
configured VLM also reflects on steps (:mod:`reflect`): what changed and whether the step looks right, kept in
the step's evidence once checked. A model error (a crashed backend, a server that is down) fails that job with a
one-line error and the batch goes on. Provenance: captions and descriptions point at a ``model_runs`` row (model
file + hash, backend, prompt version, parameters); the task and each step name their author; a model run that
already described an episode never describes it again, and a new model or prompt version adds a new draft.
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
from deskscribe.models import reflect as reflectlib
from deskscribe.models import registry as model_registry
from deskscribe.models import steps as steplib
from deskscribe.models import task as tasklib
from deskscribe.models.abilities import writes_tasks
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
MAX_TOKENS = tasklib.MAX_TOKENS  # the task answer's cap (models/task.py), also part of the model run's params
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


def describe_run(text: TextModel, cap_run: store.ModelRun, cfg: Config, compose: str,
                 vlm: Captioner | None = None) -> store.ModelRun:
    info = text.info
    params = {**info.params, "captioner": cap_run.key, "max_prompt_frames": cfg.describe.max_prompt_frames,
              "compose": compose, "max_tokens": MAX_TOKENS, "task_by": "vlm" if vlm is not None else "text"}
    if vlm is not None and compose != "evidence":  # the reflector's identity and prompt are part of the run
        params |= {"vlm": vlm.info.model, "vlm_sha256": vlm.info.sha256, "reflect": reflectlib.REFLECT_VERSION,
                   "image_max_tokens": vlm.info.params.get("image_max_tokens")}
    return store.ModelRun("describe", info.backend, info.model, info.sha256, promptlib.PROMPT_VERSION, params)


def resolve_compose(mode: str, text: TextModel, cap_run: store.ModelRun, vlm: Captioner | None = None) -> str:
    """The composer ``mode`` stands for: "auto" is "model" when a VLM is configured or the text model writes
    tasks (models/abilities.py: a server, or at least 1 B parameters counted in its GGUF), else "evidence".

    The bundled SmolLM2-135M is the offline default so that describe runs anywhere, not because it writes well:
    the evidence check rejected its answer for 15-16 of 16 dev-set episodes and 17-18 of the 20 of a simulated
    day (those it passed said no more than the steps: "Clicked in Xedit."), so the task was written from the
    steps anyway, after 2.5-4 s of model time per episode — about two thirds of the time describing that day
    took (bench/results/describe_bench.md, day_bench.md).
    """
    if mode != "auto":
        return mode
    if vlm is not None or sees(cap_run):
        return "model"
    return "model" if writes_tasks(text.info) else "evidence"


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
    reflect: list[reflectlib.Request] = field(default_factory=list)
    actions: list[evlib.Action] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.steps]


class Describer:
    """Describes episodes with one captioner and one text model (both already opened by the caller)."""

    def __init__(self, db: sqlite_utils.Database, cfg: Config, text: TextModel, captioner: Captioner,
                 compose: str = "model", vlm: Captioner | None = None) -> None:
        """``vlm``: the configured vision-language model (models.vlm_model) when it is not the captioner; a VLM
        captioner is used as the VLM itself. The VLM reads the marked frames for the task and reflects on steps."""
        if compose not in COMPOSE_MODES:
            raise ValueError(f"compose must be one of {COMPOSE_MODES}")
        self.db, self.cfg, self.text, self.captioner = db, cfg, text, captioner
        self.cap_run = caption_run(captioner)
        self.vlm = vlm if vlm is not None else (captioner if sees(self.cap_run) else None)
        self.compose = resolve_compose(compose, text, self.cap_run, self.vlm)
        self.cap_run_id = store.model_run_id(db, self.cap_run)
        self.run = describe_run(text, self.cap_run, cfg, self.compose, self.vlm)
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
            view.boxes, view.size = (decoded[2], decoded[:2]) if decoded else ([], None)
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
        acts = evlib.actions(records, frames, events_on(episode.get("source")),
                             lambda image_hash: image_bytes(self.db, image_hash)[0])
        steps = steplib.episode_steps(acts, frames, self.cfg.privacy.typed_from_screen)
        details = [json.dumps(ev.to_details(r.event), ensure_ascii=False) + " " + (r.typed or "") for r in records]
        texts = [s.text for s in steps]
        return frames, acts, steps, factlib.extract(frames), checklib.corpus(frames, texts, details)

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
        prepared = Prepared(episode_id, frames, steps, facts, evidence, actions=acts)
        if self.compose != "evidence" and self.vlm is not None:
            prepared.images = self.marked_images(frames, acts)
            info = self.vlm.info
            on_cpu = info.backend == "llama_cpp" and not info.params.get("n_gpu_layers")
            prepared.reflect = reflectlib.requests(lambda h: image_bytes(self.db, h)[0], acts, steps, facts, on_cpu)
        return prepared

    def infer(self, p: Prepared) -> tasklib.Answer:
        """Describe stage: model calls only, no database (it may run in the pipeline's worker thread)."""
        if self.compose == "evidence":
            return tasklib.from_steps(p.steps, p.actions, p.facts)
        clock = tasklib.Clock()
        shown = promptlib.select_frames(p.frames, self.cfg.describe.max_prompt_frames)
        try:
            model = self.vlm if p.images and self.vlm is not None else self.text
            answer = tasklib.ask(model, p.facts, (p.steps, p.actions), shown, p.evidence, p.images, clock)
            for req in p.reflect:
                start = time.perf_counter()
                try:
                    answer.reflections[req.index] = reflectlib.reflect(self.vlm, req)
                finally:
                    clock.seconds += time.perf_counter() - start
                    clock.calls += 1
        finally:
            self.timers.llm_s += clock.seconds
            self.timers.llm_calls += clock.calls
        return answer

    def save(self, p: Prepared, answer: tasklib.Answer) -> int:
        """Store the description with one step per action (every action: none is cut), authored by the step
        writer; a VLM's reflection goes into its step's evidence, the step's text stays the step writer's."""
        rows = [StepIn(s.text, s.event_id, AUTHOR_STEPS,
                       {**s.evidence, "reflection": answer.reflections[i]} if i in answer.reflections else s.evidence)
                for i, s in enumerate(p.steps)]
        reasons = [answer.reason, reflectlib.review_note(answer.reflections, p.texts)]
        return store.add_description(self.db, p.episode_id, answer.task.did, rows, author="model",
                                     model_run_id=self.run_id, instruction=answer.task.instruction,
                                     review_reason="; ".join(r for r in reasons if r) or None,
                                     task=answer.stored_task())


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


def open_vlm(cfg: Config) -> Captioner:
    """The configured vision-language model (``models.vlm_model``), for the task prompt and step reflections."""
    from deskscribe.models.vlm import open_vlm_captioner

    return open_vlm_captioner(cfg.models)


def shares_weights(cfg: Config) -> bool:
    """True when the summarizer is the VLM's own model (``models recommend`` sets both to one preset)."""
    return cfg.models.backend == "llama_cpp" and cfg.models.summarizer.strip().lower() == \
        cfg.models.vlm_model.strip().lower()


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
    vlm: Captioner | None = None,
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
            if vlm is None and cfg.models.vlm_model.strip() and not sees(caption_run(captioner)):
                vlm = open_vlm(cfg)
                owned.append(vlm)
            if text is None and vlm is not None and shares_weights(cfg):
                text = vlm  # type: ignore[assignment]  # the VLM's GGUF is the summarizer too: load it once
            if text is None:
                text = open_text(cfg)
                owned.append(text)
            describer = Describer(db, cfg, text, captioner, compose or cfg.describe.compose, vlm)
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

    stages: pipeline.Stages[jobs.Job, Prepared, tasklib.Answer] = pipeline.Stages(
        prepare=lambda job: describer.prepare(job.target), infer=describer.infer, save=describer.save)
    pipeline.run(claim, stages, settle, overlap=overlap)
