"""The overlap of describe's stages (models/pipeline.py): order, one job per stage, failures, thread budget.

The scheduling tests use plain functions as stages and threading.Events to force an interleaving: the model
call of job N blocks until the caption stage of job N+1 has started, so a sequential scheduler fails the test
(after a bounded wait) instead of the test depending on timing. The end-to-end test runs the real models.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading

import pytest

from deskscribe.config import Config
from deskscribe.models import describe, pipeline
from deskscribe.models.ocr import OcrCaptioner
from deskscribe.storage import descriptions as store
from deskscribe.storage.db import open_db

WAIT_S = 20  # a bound on waiting for the other thread, never a measure of speed


class Recorder:
    """Stages that log what runs where; infer(N) waits until prepare(N+1) began (when ``gate`` is on)."""

    def __init__(self, n: int, *, gate: bool, fail_prepare: set[int] = frozenset(),
                 fail_infer: set[int] = frozenset(), done: set[int] = frozenset()) -> None:
        self.queue = list(range(n))
        self.log: list[tuple[str, int, str]] = []
        self.lock = threading.Lock()
        self.started = {i: threading.Event() for i in range(n)}
        self.gate, self.fail_prepare, self.fail_infer, self.done = gate, fail_prepare, fail_infer, done
        self.settled: list[tuple[int, str | None]] = []

    def note(self, what: str, job: int) -> None:
        with self.lock:
            self.log.append((what, job, threading.current_thread().name))

    def claim(self) -> int | None:
        return self.queue.pop(0) if self.queue else None

    def prepare(self, job: int) -> int | None:
        self.note("prepare", job)
        self.started[job].set()
        if job in self.fail_prepare:
            raise ValueError(f"no frames in {job}")
        return None if job in self.done else job

    def infer(self, job: int) -> str:
        self.note("infer", job)
        if self.gate and job + 1 < len(self.started) and not self.started[job + 1].wait(WAIT_S):
            raise AssertionError(f"caption stage of {job + 1} did not start while the model ran on {job}")
        if job in self.fail_infer:
            raise RuntimeError(f"model broke on {job}")
        self.note("infer-end", job)
        return f"answer {job}"

    def save(self, job: int, answer: str) -> None:
        self.note("save", job)
        assert answer == f"answer {job}"

    def stages(self) -> pipeline.Stages[int, int, str]:
        return pipeline.Stages(self.prepare, self.infer, self.save)

    def settle(self, job: int, exc: Exception | None) -> None:
        self.settled.append((job, None if exc is None else str(exc)))


def test_caption_stage_of_next_job_runs_while_the_model_works_on_this_one():
    rec = Recorder(4, gate=True)
    assert pipeline.run(rec.claim, rec.stages(), rec.settle, overlap=True) == 4
    assert rec.settled == [(0, None), (1, None), (2, None), (3, None)]
    order = [(what, job) for what, job, _ in rec.log]
    for job in range(3):  # prepare(N+1) began before infer(N) ended, and N was saved before infer(N+1) began
        assert order.index(("prepare", job + 1)) < order.index(("infer-end", job))
        assert order.index(("save", job)) < order.index(("infer", job + 1))
    threads = {what: {t for w, _, t in rec.log if w == what} for what in ("prepare", "infer", "save")}
    assert threads["prepare"] == threads["save"] == {threading.current_thread().name}
    assert len(threads["infer"]) == 1 and threads["infer"] != threads["prepare"]


def test_at_most_one_job_per_stage():
    rec = Recorder(5, gate=True)
    pipeline.run(rec.claim, rec.stages(), rec.settle, overlap=True)
    order = [(what, job) for what, job, _ in rec.log]
    for job in range(3):  # job N+2 is not even captioned before N's answer is saved
        assert order.index(("save", job)) < order.index(("prepare", job + 2))


def test_without_overlap_the_stages_run_one_after_the_other():
    rec = Recorder(3, gate=False)
    pipeline.run(rec.claim, rec.stages(), rec.settle, overlap=False)
    assert [(w, j) for w, j, _ in rec.log] == [
        (w, j) for j in range(3) for w in ("prepare", "infer", "infer-end", "save")]
    assert [j for j, _ in rec.settled] == [0, 1, 2]


def test_failures_and_finished_jobs_are_settled_in_order_and_the_batch_goes_on():
    rec = Recorder(5, gate=False, fail_prepare={1}, fail_infer={3}, done={2})
    assert pipeline.run(rec.claim, rec.stages(), rec.settle, overlap=True) == 5
    assert rec.settled == [(0, None), (1, "no frames in 1"), (2, None), (3, "model broke on 3"), (4, None)]
    saved = [j for w, j, _ in rec.log if w == "save"]
    assert saved == [0, 4]  # nothing saved for a failed or already-described job
    assert ("infer", 2) not in [(w, j) for w, j, _ in rec.log]


def test_an_empty_queue_settles_nothing():
    rec = Recorder(0, gate=False)
    assert pipeline.run(rec.claim, rec.stages(), rec.settle) == 0


@pytest.mark.parametrize(("budget", "cpus", "expected"),
                         [(0, 4, True), (0, 2, False), (0, 1, False), (1, 8, False), (2, 8, False), (4, 1, True)])
def test_overlap_needs_four_threads_in_the_budget(budget, cpus, expected):
    assert pipeline.should_overlap(budget, cpus) is expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_model_runs_at_background_priority_only_when_overlapping():
    seen: dict[bool, int] = {}

    def run(overlap: bool) -> None:
        queue = [1]
        stages = pipeline.Stages(prepare=lambda j: j, save=lambda p, r: None,
                                 infer=lambda p: seen.__setitem__(overlap, os.getpriority(
                                     os.PRIO_PROCESS, threading.get_native_id())))
        pipeline.run(lambda: queue.pop() if queue else None, stages, lambda j, e: None, overlap=overlap)

    run(True)
    run(False)
    assert seen == {True: 19, False: os.getpriority(os.PRIO_PROCESS, 0)}


@pytest.mark.model
def test_overlapped_batch_writes_what_a_sequential_one_writes(db, smollm2_path, tmp_path):
    from tests.models.test_describe import _synthetic_episode

    for i, words in enumerate([["Invoice 42", "Total 310 EUR"], ["git status", "git commit"], ["Meeting notes"]]):
        _synthetic_episode(db, words, ts=1000.0 * (i + 1))
    copy = tmp_path / "copy.db"
    with sqlite3.connect(copy) as dst:  # the backup API also copies what is still in the WAL
        db.conn.backup(dst)
    other = open_db(copy)
    on = describe.run_batch(db, Config(), overlap=True)
    off = describe.run_batch(other, Config(), overlap=False)
    # SmolLM2 may fail an episode (an answer that names no task): the same ones, with the same error, either way
    assert on.failed == off.failed and on.done == off.done and on.done

    def texts(d):  # type: ignore[no-untyped-def]
        return [(c["summary"], c["steps"]) for c in (store.current_description(d, e) for e in on.done)]

    assert texts(db) == texts(other)
    assert on.timers.captions == off.timers.captions > 0
    other.conn.close()


def test_ocr_thread_budget_reaches_the_engine():
    cap = OcrCaptioner(threads=1)
    engine = cap._engine._rapid()
    assert engine.text_det.infer.session.get_session_options().intra_op_num_threads == 1
    assert cap.info == OcrCaptioner().info  # threads are not provenance: the same caption run
