"""The resumable job queue: idempotent enqueue, atomic claim, crash recovery, failure and retry."""

from __future__ import annotations

from deskscribe.storage import episodes, jobs
from deskscribe.storage.frames import EncodedImage, EventIn, FrameIn, add_frame, close_episode, create_episode


def _episode(db, ts: float = 1000.0, closed: bool = True) -> int:
    ep = create_episode(db, ts)
    add_frame(db, ep, FrameIn(ts=ts, image=EncodedImage(f"img{ts}".encode(), "png", 1, 1),
                              events=[EventIn(ts + 1, "click", {"button": "left"})]))
    if closed:
        close_episode(db, ep)
    return ep


def test_enqueue_is_idempotent_and_claims_in_order(db):
    a, b = _episode(db, 1), _episode(db, 2)
    assert jobs.enqueue(db, "describe", [a, b], "k1") == 2
    assert jobs.enqueue(db, "describe", [a, b], "k1") == 0
    assert jobs.enqueue(db, "describe", [a], "k2") == 1  # another model run is other work
    first = jobs.claim(db, "describe", "k1")
    assert (first.target, first.state, first.attempts) == (a, "running", 1)
    second = jobs.claim(db, "describe", "k1")
    assert second.target == b
    assert jobs.claim(db, "describe", "k1") is None
    assert jobs.counts(db, "describe", "k1") == {"queued": 0, "running": 2, "done": 0, "failed": 0}


def test_claim_only_among_targets(db):
    a, b = _episode(db, 1), _episode(db, 2)
    jobs.enqueue(db, "describe", [a, b], "k")
    assert jobs.claim(db, "describe", "k", [b]).target == b
    assert jobs.claim(db, "describe", "k", [b]) is None
    assert jobs.claim(db, "describe", "k", []) is None


def test_crashed_running_job_is_requeued_and_done_once(db):
    a, b = _episode(db, 1), _episode(db, 2)
    jobs.enqueue(db, "describe", [a, b], "k")
    crashed = jobs.claim(db, "describe", "k")  # the process dies here: the job stays 'running'
    assert jobs.get_job(db, "describe", a, "k").state == "running"
    assert jobs.requeue_stale(db, "describe") == 1
    again = jobs.claim(db, "describe", "k")
    assert again.id == crashed.id and again.attempts == 2
    jobs.done(db, again.id)
    jobs.done(db, jobs.claim(db, "describe", "k").id)
    assert jobs.claim(db, "describe", "k") is None
    assert jobs.requeue_stale(db, "describe") == 0
    assert jobs.counts(db, "describe")["done"] == 2


def test_failed_keeps_error_until_retried(db):
    a = _episode(db)
    jobs.enqueue(db, "describe", [a], "k")
    job = jobs.claim(db, "describe", "k")
    jobs.fail(db, job.id, "the model's answer\nis not JSON")
    failed = jobs.get_job(db, "describe", a, "k")
    assert failed.state == "failed" and failed.error == "the model's answer is not JSON"
    assert jobs.claim(db, "describe", "k") is None
    assert jobs.retry_failed(db, "describe", "k") == 1
    assert jobs.claim(db, "describe", "k").target == a
    assert jobs.jobs_for(db, "describe", a)[0].state == "running"


def test_closed_episodes_backlog_and_last_activity(db):
    assert episodes.last_activity_ts(db) is None
    a = _episode(db, 10)
    open_ep = _episode(db, 20, closed=False)
    assert episodes.closed_episodes(db) == [a]
    assert episodes.closed_episodes(db, [open_ep, a, 999]) == [a]
    assert episodes.backlog(db) == 1
    assert episodes.last_activity_ts(db) == 21.0
    assert episodes.described_by(db, 1) == set()
