"""Overlap the two halves of describing: the text model of episode N runs while episode N+1 is captioned.

Describing an episode has a caption stage (read frames and images, OCR or VLM each uncached frame, store
the captions: it needs the database) and a describe stage (one or two text-model calls: no database). Run one
after the other, each leaves cores idle while the other waits: llama.cpp decodes on one thread, OCR has
single-threaded pre- and post-processing. Here the describe stage of job N runs in one worker thread while
the caller's thread claims job N+1 and captions it; then the caller waits for N's answer, stores it and
hands N+1's prepared frames to the worker. At most one job is in each stage, so jobs are claimed one ahead
and finished strictly in order.

SQLite stays on the caller's thread (its connection is not shared); the worker only sees prepared data.

Threads: ``models.n_threads`` is the budget (0 = every core). The captioner keeps all of it, exactly as when
describing one stage after the other, because OCR is most of describe's time and scales with threads. The
model's worker thread runs at background priority (nice 19, Linux): it gets the cycles the captioner leaves
idle — the single-threaded parts of OCR, the gaps between frames — and yields whenever the captioner or
anything else at normal priority (capture, the desktop) wants the core. So overlapping never takes more of
the machine from capture than a sequential describe does.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

J = TypeVar("J")  # a claimed job
P = TypeVar("P")  # what the caption stage prepared for the model
R = TypeVar("R")  # the model's answer


# On 2 cores the overlap was slower than sequential in every day bench (322 vs 307 s, 165 vs 156 s).
OVERLAP_MIN_THREADS = 4


def should_overlap(budget: int, cpus: int) -> bool:
    """Overlap needs ``OVERLAP_MIN_THREADS`` threads in the budget (``models.n_threads``, 0 = ``cpus``): with two,
    OCR and the text model each want both cores and the pair took longer than one after the other.

    Both models are opened with the configured threads either way: llama.cpp's output at temperature 0
    depends on its thread count (the order of float sums), so an overlapped batch writes exactly what a
    sequential one writes. What changes is only the model thread's priority.
    """
    return (budget if budget > 0 else cpus) >= OVERLAP_MIN_THREADS


@dataclass
class Stages(Generic[J, P, R]):
    """The three steps of one job. ``prepare`` and ``save`` run on the caller's thread, ``infer`` in the worker.

    ``prepare`` returns None when there is nothing to do for the job (it is then settled without ``infer``).
    """

    prepare: Callable[[J], P | None]
    infer: Callable[[P], R]
    save: Callable[[P, R], object]


@dataclass
class _InFlight(Generic[J, P, R]):
    job: J
    prepared: P
    answer: Future[R]


def run(claim: Callable[[], J | None], stages: Stages[J, P, R], settle: Callable[[J, Exception | None], None],
        *, overlap: bool = True) -> int:
    """Claim and process jobs until ``claim`` returns None; returns how many were settled.

    Every claimed job is settled exactly once, in claim order, with the exception its stages raised (or
    None). A failure in one job never stops the others. With ``overlap`` off the same code runs the stages
    strictly one after the other (the worker thread, at normal priority, still makes the model calls, so the
    text model always sees one thread).
    """
    settled = 0
    in_flight: _InFlight[J, P, R] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="describe-model",
                            initializer=background_priority if overlap else None) as pool:
        try:
            while True:
                job = claim()
                prepared, error = (_prepare(stages, job) if job is not None else (None, None))  # type: ignore[arg-type]
                if in_flight is not None:  # the caption stage of `job` ran while this one's model did
                    settle(in_flight.job, _store(stages, in_flight))
                    settled += 1
                    in_flight = None
                if job is None:
                    return settled
                if error is not None or prepared is None:
                    settle(job, error)
                    settled += 1
                    continue
                in_flight = _InFlight(job, prepared, pool.submit(stages.infer, prepared))
                if not overlap:
                    settle(job, _store(stages, in_flight))
                    settled += 1
                    in_flight = None
        finally:
            if in_flight is not None:  # interrupted (e.g. KeyboardInterrupt): let the model call end first
                in_flight.answer.cancel()


def background_priority() -> None:
    """Lower the calling thread to nice 19 (Linux: a thread is a task with its own nice value).

    Threads llama.cpp starts from this thread inherit it. Elsewhere the thread keeps normal priority and
    overlap still holds to the thread budget, only without yielding to the captioner.
    """
    import os
    import threading

    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError as exc:
            log.info("could not lower the model thread's priority: %s", exc)


def _prepare(stages: Stages[J, P, R], job: J) -> tuple[P | None, Exception | None]:
    try:
        return stages.prepare(job), None
    except Exception as exc:  # settled as this job's failure; the batch goes on
        return None, exc


def _store(stages: Stages[J, P, R], flight: _InFlight[J, P, R]) -> Exception | None:
    try:
        stages.save(flight.prepared, flight.answer.result())
    except Exception as exc:
        return exc
    return None
