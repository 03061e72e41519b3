"""Shared storage test data."""

from __future__ import annotations

from deskscribe.storage import events as ev
from deskscribe.storage import frames as f


def three_actions(db):  # type: ignore[no-untyped-def]
    """An episode of two frames and three actions on them (two clicks, Ctrl+S): its id and the event ids."""
    ep = f.create_episode(db, 1.0)
    a = f.add_frame(db, ep, f.FrameIn(1.0, f.EncodedImage(b"a", "jpeg", 4, 4), app="mousepad"))
    b = f.add_frame(db, ep, f.FrameIn(2.0, f.EncodedImage(b"b", "jpeg", 4, 4), app="mousepad"))
    f.add_events(db, ep, b, [f.EventIn.of(1.2, ev.Click(1, 1), before_frame_id=a, after_frame_id=b),
                             f.EventIn.of(1.4, ev.Click(2, 2), before_frame_id=a, after_frame_id=b),
                             f.EventIn.of(1.6, ev.Shortcut("ctrl+s"), before_frame_id=a, after_frame_id=b)])
    ids = [r[0] for r in db.conn.execute("SELECT id FROM events WHERE episode_id = ? ORDER BY ts", (ep,))]
    return ep, ids
