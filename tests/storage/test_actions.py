"""The one pairing of events with frames (storage/actions.py): a pure function, and the stored read model."""

from __future__ import annotations

from typing import Any

from deskscribe.storage import events as ev
from deskscribe.storage import frames as f
from deskscribe.storage.actions import episode_actions, pair_actions


def frame(fid: int, ts: float, monitor: int = 1, app: str = "xterm") -> dict[str, Any]:
    return {"id": fid, "ts": ts, "monitor": monitor, "app": app}


def row(eid: int, ts: float, e: ev.Event, **extra: Any) -> dict[str, Any]:
    return {"id": eid, "ts": ts, "kind": e.kind, "details": ev.to_details(e), "frame_id": None, **extra}


def test_capture_links_win_then_the_linked_frame_then_time() -> None:
    frames = [frame(1, 0.0), frame(2, 1.0), frame(3, 2.0, monitor=2), frame(4, 3.0)]
    rows = [
        row(10, 0.5, ev.Click(1, 1), before_frame_id=1, after_frame_id=4),  # capture's own link
        row(11, 1.5, ev.Click(2, 2), frame_id=4, monitor=1),  # live: between the previous frame of its monitor and its frame
        row(12, 2.5, ev.Scroll(0, -1, 1, 5, 5, 2), monitor=2),  # no link: by time, on its monitor only
    ]
    got = pair_actions(frames, rows)
    assert [(a.event_id, a.before, a.after) for a in got] == [(10, 1, 4), (11, 2, 4), (12, 3, None)]
    imported = pair_actions(frames, [row(13, 0.0, ev.Click(1, 1), frame_id=1)], "before")
    assert [(a.before, a.after) for a in imported] == [(1, 2)]  # imports: on the screen it was taken on


def test_typed_text_joins_its_burst_and_a_lone_enter_ends_it() -> None:
    frames = [frame(1, 0.0), frame(2, 1.0), frame(3, 2.0)]
    rows = [
        row(20, 0.2, ev.Keys(6), frame_id=2), row(21, 0.2, ev.Text("ls -la"), frame_id=2),
        row(22, 0.9, ev.Keys(1, {"enter": 1}, "enter"), frame_id=3),  # split off by a pause: the same command
        row(23, 1.5, ev.Shortcut("ctrl+s"), frame_id=3),
        row(24, 1.6, ev.Text("orphan"), frame_id=3),  # no burst beside it: an action of its own
    ]
    got = pair_actions(frames, rows)
    assert [(a.kind, a.event_id, a.typed, a.merged) for a in got] == [
        ("keys", 20, "ls -la", (21, 22)), ("shortcut", 23, None, ()), ("text", 24, "orphan", ())]
    burst = got[0]
    assert burst.enter and burst.characters == 6 and burst.after == 3 and burst.event_ids == (20, 21, 22)
    before_text = pair_actions(frames, [row(30, 0.1, ev.Text("hi"), frame_id=2), row(31, 0.2, ev.Keys(2), frame_id=2)])
    assert [(a.event_id, a.typed) for a in before_text] == [(31, "hi")]


def test_an_enter_in_another_app_and_unknown_kinds_stay_apart() -> None:
    frames = [frame(1, 0.0), frame(2, 1.0), frame(3, 2.0, app="mousepad")]
    rows = [row(40, 0.5, ev.Keys(3), frame_id=2), row(41, 1.5, ev.Keys(1, {"enter": 1}), frame_id=3),
            {"id": 42, "ts": 1.6, "kind": "mystery", "details": {}, "frame_id": 3}]
    assert [a.event_id for a in pair_actions(frames, rows)] == [40, 41]


def test_episode_actions_reads_a_stored_episode(db) -> None:  # type: ignore[no-untyped-def]
    ep = f.create_episode(db, 1.0)
    img = f.EncodedImage(b"x", "jpeg", 4, 4)
    a = f.add_frame(db, ep, f.FrameIn(1.0, img, monitor=1, app="xterm"))
    b = f.add_frame(db, ep, f.FrameIn(2.0, f.EncodedImage(b"y", "jpeg", 4, 4), monitor=1, app="xterm"))
    f.add_events(db, ep, b, [f.EventIn.of(1.5, ev.Keys(2), before_frame_id=a, after_frame_id=b),
                             f.EventIn.of(1.5, ev.Text("hi"), before_frame_id=a, after_frame_id=b)])
    (got,) = episode_actions(db, ep)
    assert (got.kind, got.before, got.after, got.typed) == ("keys", a, b, "hi")
    assert episode_actions(db, 999) == []
