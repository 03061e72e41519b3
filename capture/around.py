"""The frames around actions, as jobs on the capture thread (mixed into the Engine, capture/engine.py).

Each action gets a *before* frame when it starts (the latest grab, stored unless the screen is unchanged
since the last stored frame) and an *after* frame when it ended: at once for a typing burst (trigger
``typing``), else once the screen has settled (trigger ``settle`` / ``app_switch``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from deskscribe.capture.activity import Pending
from deskscribe.capture.keeper import Grab, same_screen
from deskscribe.capture.writer import Action, Captured
from deskscribe.storage import events as ev

if TYPE_CHECKING:
    from deskscribe.capture.activity import Aggregator
    from deskscribe.capture.keeper import FrameKeeper
    from deskscribe.capture.writer import Writer
    from deskscribe.config import Config

SETTLE_POLL_S = 0.25  # a screen still changing is looked at again this much later …
SETTLE_MAX_S = 2.0  # … for at most this long after the action ended
STUCK_S = 3.0  # an ended action still without after frame this long after its debounce: take one now


class ActionFrames:
    """Needs from the engine: cfg, aggregator, keeper, writer, stop_event and the helpers named below."""

    cfg: Config
    aggregator: Aggregator
    keeper: FrameKeeper
    writer: Writer
    stop_event: Any
    _unsent: list[Action]
    _pointer_monitor: int | None
    _settle_since: float | None

    def _blocked(self, now: float) -> Any: ...
    def _grab_now(self, now: float, assign: bool = True) -> list[Grab] | None: ...
    def _window(self) -> Any: ...
    def _shown_windows(self) -> list[Any]: ...  # type: ignore[empty-body]
    def _monitors(self) -> list[Any]: ...  # type: ignore[empty-body]
    def _run_soon(self, fn: Any, job_id: str, delay: float = 0.0, args: tuple[Any, ...] = ()) -> None: ...

    def _before_job(self) -> None:
        if not self.stop_event.is_set() and not self._blocked(time.time()):
            self._assign_before(time.time())
            self._flush()

    def _assign_before(self, upto: float) -> None:
        """Store the latest grab as the before frame of each action that started by ``upto``."""
        waiting = self.aggregator.needing_before(upto)
        if not waiting:
            return
        switches = [p for p in waiting if isinstance(p.event, ev.AppSwitch)]
        self._before_from_latest(switches)  # noticed after focus moved: the latest grab is the old window
        others = [p for p in waiting if not isinstance(p.event, ev.AppSwitch)]
        if others and self._stale():  # focus moved since the last grab to a window it does not show
            self._grab_now(time.time(), assign=False)
        self._before_from_latest(others)

    def _before_from_latest(self, waiting: list[Pending]) -> None:
        tokens: dict[Any, int | None] = {}
        for mon in {self._monitor_for(p) for p in waiting}:
            latest = self.keeper.latest.get(mon) if mon is not None else None
            if latest is None:
                tokens[mon] = None  # nothing grabbed yet (capture just started): no before frame
            elif self.cfg.capture.frame_on_click:
                tokens.update(self.keeper.store([latest], "action", self._blink_threshold()))
            else:
                tokens[mon] = self.keeper.stored.get(mon)  # type: ignore[arg-type]  # mon is not None here
        for p in waiting:
            p.before, p.has_before = tokens.get(self._monitor_for(p)), True
            self.aggregator.closed(p)

    def _stale(self) -> bool:
        """Focus moved since the last grab and the window that grab shows is still on screen: the action was
        made in the newly focused window, which that grab may not show. A window that is gone was most likely
        closed by the action itself (a dialog's button closes it as it is released, before this runs): the last
        grab, which shows it, is the screen as it was before the action. Where the window system gives no
        window ids, any move of focus counts."""
        win = self._window()
        now = (win.app, win.title) if win else (None, None)
        moved = [g for g in self.keeper.latest.values() if (g.app, g.title) != now]
        if not moved:
            return False
        if any(g.window is None for g in moved):
            return True
        shown = {w.id for w in self._shown_windows()}
        return any(g.window in shown for g in moved)

    def _typing_job(self) -> None:
        """A typing burst ended (Enter or a pause): its after frame shows what was typed, taken at once."""
        self._after_frames("typing", only=ev.Keys)
        self._flush()

    def _settle_job(self, trigger: str) -> None:
        """The after frame of ended actions, once two looks in a row see the same screen (or SETTLE_MAX_S)."""
        now = time.time()
        since = self._settle_since = self._settle_since or now
        latest = dict(self.keeper.latest)
        grabs = self._grab_now(now)
        if grabs is None:
            self._after_frames(trigger, grabs=[])
        elif now - since < SETTLE_MAX_S and not all(same_screen(latest.get(g.monitor), g) for g in grabs):
            self._run_soon(self._settle_job, "settle", SETTLE_POLL_S, (trigger,))
            return
        else:
            self._after_frames(trigger, grabs=grabs)
        self._settle_since = None
        self._flush()

    def _after_frames(self, trigger: str, only: type | None = None, grabs: list[Grab] | None = None) -> None:
        """Store the after frame of ended actions; a settled screen is stored even when none waits (what
        a command printed after its Enter is the next action's evidence)."""
        waiting = [p for p in self.aggregator.needing_after() if only is None or isinstance(p.event, only)]
        if not waiting and grabs is None:
            return
        if grabs is None:
            grabs = self._grab_now(time.time()) or []
        wanted = {self._monitor_for(p) for p in waiting} or {self._monitor_for(Pending(0.0, ev.Other()))}
        threshold = 0.0 if trigger == "typing" else self._blink_threshold()  # typed text: every character
        tokens: dict[Any, int | None]
        if self.cfg.capture.frame_on_click:
            tokens = dict(self.keeper.store([g for g in grabs if g.monitor in wanted], trigger, threshold))
        else:  # no frames of their own: the last stored frame of the monitor
            tokens = {m: self.keeper.stored.get(m) for m in wanted if m is not None}
        for p in waiting:
            p.after, p.has_after = tokens.get(self._monitor_for(p)), True

    def _last_frames(self) -> None:
        """Capture is stopping: the actions still waiting for their after frame — a Save button's click, the
        last command's output, a burst of keys not yet ended — get the screen as it is now rather than none."""
        self.aggregator.end_bursts(time.time() + 3600.0)
        if self.aggregator.needing_after() and not self._blocked(time.time()):
            self._after_frames("settle")

    def _blink_threshold(self) -> float:
        """Frames around actions count smaller changes than the tick, but not a blinking text cursor
        (a 1 px × 16 px caret is ~4 of the grid's samples, 0.00006 of a 1280×800 screen)."""
        return self.cfg.capture.change_threshold / 5

    def _monitor_for(self, p: Pending) -> int | None:
        """Pointer actions: the monitor they happened on; the rest: where the last click was (else the first)."""
        if p.monitor is not None:
            return p.monitor
        mons = self._monitors()
        if self._pointer_monitor is not None and any(m.index == self._pointer_monitor for m in mons):
            return self._pointer_monitor
        return mons[0].index if mons else None

    def _flush(self, force: bool = False) -> None:
        """Hand finished actions to the writer (all of them when stopping)."""
        ready = self.aggregator.take_ready(force=force)
        self._unsent += [Action(p.ts, p.events(), p.before, p.after, p.looked_up) for p in ready]
        if self._unsent and self.writer.submit(Captured(time.time(), None, None, [], self._unsent)):
            self._unsent = []

