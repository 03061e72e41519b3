"""Overlap the two halves of describing: the text model of episode N runs while episode N+1 is captioned.

Describing an episode has a caption stage (read frames and images, OCR or VLM each uncached frame, store
the captions: it needs the database) and a describe stage (one or two text-model calls: no database). Run one
after the other, each leaves cores idle while the other waits: llama.cpp decodes on one thread, OCR has
single-threaded pre- and post-processing. Here the describe stage of job N runs in one worker thread while
the caller's thread claims job N+1 and captions it; then the caller waits for N's answer, stores it and
hands N+1's prepared frames to the worker. At most one job is in each stage, so jobs are claimed one ahead
and finished strictly in order.

SQLite stays on the caller's thread (its connection is not shared); the worker only sees prepared data.

Threads: ``models.n_threads`` is the budget for the whole batch (0 = every core). :func:`plan_threads` splits
it between the stages so that, overlapped, describe never runs more threads than it would alone — capture
keeps the same share of the machine it has beside a sequential describe.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from deskscribe.config import Config

log = logging.getLogger(__name__)

J = TypeVar("J")  # a claimed job
P = TypeVar("P")  # what the caption stage prepared for the model
R = TypeVar("R")  # the model's answer


@dataclass(frozen=True)
class ThreadPlan:
    caption: int  # threads for the OCR / VLM captioner (0 = the library's own default)
    text: int  # threads for the text model (0 = the library's own default)
    overlap: bool


def plan_threads(budget: int, cpus: int, *, remote_text: bool = False) -> ThreadPlan:
    """Split ``budget`` threads (0 = ``cpus``) between the caption and describe stages.

    OCR is most of describe's time (about 3:1 against the 135M text model in bench/results/describe_bench.md),
    so it gets two thirds; the text model at least one thread. One thread in all leaves nothing to overlap
    with. A remote text model (an HTTP server) needs no local threads, so the captioner gets them all.
    """
    total = budget if budget > 0 else max(1, cpus)
    if remote_text:
        return ThreadPlan(caption=budget, text=0, overlap=True)
    if total < 2:
        return ThreadPlan(caption=budget, text=budget, overlap=False)
    text = max(1, total // 3)
    return ThreadPlan(caption=total - text, text=text, overlap=True)


def stage_configs(cfg: Config, cpus: int) -> tuple[Config, Config, ThreadPlan]:
    """Copies of ``cfg`` for opening the captioner and the text model with their share of the threads.

    ``n_threads`` is not part of a model run's provenance, so the split changes no run key.
    """
    plan = plan_threads(cfg.models.n_threads, cpus, remote_text=cfg.models.backend == "openai")

    def with_threads(n: int) -> Config:
        return dataclasses.replace(cfg, models=dataclasses.replace(cfg.models, n_threads=n))

    return with_threads(plan.caption), with_threads(plan.text), plan


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
    strictly one after the other (the worker thread is still used, so the text model always sees one thread).
    """
    settled = 0
    in_flight: _InFlight[J, P, R] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="describe-model") as pool:
        try:
            while True:
                job = claim()
                prepared, error = (_prepare(stages, job) if job is not None else (None, None))
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
