"""Step-level trajectory records: pure functions from stored frames, events and descriptions.

One step per action, in the documented action space (coordinates normalised to [0, 1] of the monitor the
action happened on; the monitor's pixel size travels with every step)::

    click(x, y)  double_click(x, y)  right_click(x, y)  middle_click(x, y)  drag(x1, y1, x2, y2)
    scroll(dx, dy[, x, y])  hotkey(keys)  write(text)  wait()  terminate(status)

- ``write`` exists only where the text is known: the person opted in to storing typed text
  (``capture.store_typed_text``). A key burst without stored text is not a step (counted in ``skipped``).
- ``scroll`` uses pynput's / pyautogui's sign: dy > 0 scrolls up, dx > 0 right.
- ``wait`` is inserted where the screen changed on its own: more than ``WAIT_GAP_S`` between two actions and
  the next action's before-frame differs from the previous action's after-frame.
- ``terminate('success')`` closes every trajectory, on the last frame (the person finished the task).

The before-frame is the last stored frame (capture stores only visually changed frames) at or before the
action on its monitor, or the one capture linked (``events.before_frame_id``); the after-frame is the next
one (``events.after_frame_id``). A step never uses a frame from after its action as its observation.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from deskscribe.export.redact import Redactor
from deskscribe.storage import events as ev

WAIT_GAP_S = 5.0
DIGITS = 4


@dataclass(frozen=True)
class Monitor:
    """Where a step happened: index as in ``frames.monitor``, position on the desktop and pixel size."""

    index: int
    left: int
    top: int
    width: int
    height: int

    def norm(self, x: float, y: float) -> tuple[float, float] | None:
        """Desktop pixels → [0, 1] of this monitor; None when the point is not on it."""
        nx, ny = (x - self.left) / self.width, (y - self.top) / self.height
        if not (0 <= nx <= 1 and 0 <= ny <= 1):
            return None
        return round(nx, DIGITS), round(ny, DIGITS)

    def to_json(self) -> dict[str, int]:
        return {"index": self.index, "left": self.left, "top": self.top, "width": self.width, "height": self.height}


def monitor_of(frame: dict[str, Any]) -> Monitor:
    """The monitor a frame shows. Frames store the monitor index and the image's pixel size (the monitor's
    own size unless capture.max_side shrank it); a desktop offset is used where the row carries one."""
    return Monitor(int(frame.get("monitor") or 0), int(frame.get("monitor_left") or 0),
                   int(frame.get("monitor_top") or 0), int(frame.get("monitor_width") or frame["width"]),
                   int(frame.get("monitor_height") or frame["height"]))


@dataclass(frozen=True)
class Action:
    name: str  # click | double_click | right_click | middle_click | drag | scroll | hotkey | write | wait | terminate
    x: float | None = None
    y: float | None = None
    x2: float | None = None
    y2: float | None = None
    dx: int = 0
    dy: int = 0
    keys: tuple[str, ...] = ()
    text: str | None = None
    status: str | None = None

    def string(self) -> str:
        """The action in the documented action space, e.g. ``click(x=0.4123, y=0.2051)``."""
        if self.name in ("click", "double_click", "right_click", "middle_click"):
            return f"{self.name}(x={self.x}, y={self.y})"
        if self.name == "drag":
            return f"drag(x1={self.x}, y1={self.y}, x2={self.x2}, y2={self.y2})"
        if self.name == "scroll":
            at = f", x={self.x}, y={self.y}" if self.x is not None else ""
            return f"scroll(dx={self.dx}, dy={self.dy}{at})"
        if self.name == "hotkey":
            return f"hotkey(keys={json.dumps(list(self.keys))})"
        if self.name == "write":
            return f"write(text={json.dumps(self.text, ensure_ascii=False)})"
        if self.name == "terminate":
            return f"terminate(status={json.dumps(self.status)})"
        return "wait()"

    def code(self) -> str:
        """pyautogui code with normalised coordinates (OpenCUA's convention: multiply by the screen size)."""
        fn = {"click": "click", "double_click": "doubleClick", "right_click": "rightClick",
              "middle_click": "middleClick"}
        if self.name in fn:
            return f"pyautogui.{fn[self.name]}(x={self.x}, y={self.y})"
        if self.name == "drag":
            return (f"pyautogui.moveTo(x={self.x}, y={self.y})\n"
                    f"pyautogui.dragTo(x={self.x2}, y={self.y2}, button='left')")
        if self.name == "scroll":
            lines = [f"pyautogui.moveTo(x={self.x}, y={self.y})"] if self.x is not None else []
            lines += [f"pyautogui.scroll({self.dy})"] if self.dy else []
            lines += [f"pyautogui.hscroll({self.dx})"] if self.dx else []
            return "\n".join(lines)
        if self.name == "hotkey":
            keys = ", ".join(repr(k) for k in self.keys)
            return f"pyautogui.press({keys})" if len(self.keys) == 1 else f"pyautogui.hotkey({keys})"
        if self.name == "write":
            return f"pyautogui.write({json.dumps(self.text, ensure_ascii=False)})"
        if self.name == "terminate":
            return f"computer.terminate(status={self.status!r})"
        return "computer.wait()"

    @property
    def point(self) -> tuple[float, float] | None:
        return (self.x, self.y) if self.x is not None and self.y is not None else None


@dataclass
class Step:
    index: int
    ts: float
    action: Action
    before: dict[str, Any]  # frame row: id, image_hash, monitor, width, height, app, window_title
    after: dict[str, Any] | None
    monitor: Monitor
    element: dict[str, Any] | None = None  # role, name, box (normalised x, y, w, h), box_px
    text: str = ""
    event_kind: str | None = None

    def thought_action(self) -> str:
        """The assistant turn of the chat formats (UI-TARS / Aguvis style)."""
        return f"Thought: {self.text}\nAction: {self.action.string()}"


@dataclass
class Trajectory:
    episode_id: int
    instruction: str
    summary: str
    steps: list[Step]
    skipped: Counter[str] = field(default_factory=Counter)

    def history(self, i: int) -> list[str]:
        """The texts of the steps before step ``i``."""
        return [s.text for s in self.steps[:i]]

    def monitors(self) -> list[dict[str, int]]:
        return [m.to_json() for m in dict.fromkeys(s.monitor for s in self.steps)]


def instruction_of(description: dict[str, Any] | None, stored: str | None) -> str:
    """The episode's task as a request: the stored instruction (the person's edit or the model's), else the
    description's own ``instruction`` field where the describe stage wrote one, else its summary."""
    if stored and stored.strip():
        return stored.strip()
    desc = description or {}
    return str(desc.get("instruction") or desc.get("summary") or "").strip()


def _norm_box(box: Any, mon: Monitor) -> list[float] | None:
    if not box:
        return None
    x, y, w, h = box
    return [round((x - mon.left) / mon.width, DIGITS), round((y - mon.top) / mon.height, DIGITS),
            round(w / mon.width, DIGITS), round(h / mon.height, DIGITS)]


def _element(el: ev.Element | None, mon: Monitor) -> dict[str, Any] | None:
    if el is None:
        return None
    return {"role": el.role, "name": el.name, "box": _norm_box(el.box, mon),
            "box_px": list(el.box) if el.box else None, "app": el.app}


def _pointer_action(e: ev.Event, mon: Monitor) -> Action | str:
    """The Action of a click/drag/scroll, or the reason it cannot be one."""
    if isinstance(e, ev.Click):
        if e.x is None or e.y is None:
            return "click without a position"
        p = mon.norm(e.x, e.y)
        if p is None:
            return "point outside its monitor"
        plain = "double_click" if e.count >= 2 else "click"
        name = {"right": "right_click", "middle": "middle_click"}.get(e.button, plain)
        return Action(name, *p)
    if isinstance(e, ev.Drag):
        a, b = mon.norm(e.x1, e.y1), mon.norm(e.x2, e.y2)
        if a is None or b is None:
            return "point outside its monitor"
        return Action("drag", a[0], a[1], b[0], b[1])
    assert isinstance(e, ev.Scroll)
    p = mon.norm(e.x, e.y) if e.x is not None and e.y is not None else None
    return Action("scroll", p[0] if p else None, p[1] if p else None, dx=e.dx, dy=e.dy)


def action_of(e: ev.Event | None, mon: Monitor, text_beside: bool) -> Action | str | None:
    """The Action for one parsed event; a string says why it is skipped; None = not an action at all."""
    if isinstance(e, (ev.Click, ev.Drag, ev.Scroll)):
        return _pointer_action(e, mon)
    if isinstance(e, ev.Shortcut):
        return Action("hotkey", keys=tuple(k for k in e.keys.split("+") if k)) if e.keys else "empty shortcut"
    if isinstance(e, ev.Text):
        return Action("write", text=e.text) if e.text else "empty text"
    if isinstance(e, ev.Keys):
        if text_beside:
            return None  # the opted-in Text event beside it is the step
        if e.special and sum(e.special.values()) == e.count and len(e.special) == 1:
            return Action("hotkey", keys=(next(iter(e.special)),))
        return "typing without stored text"
    return None  # app switches follow from a click or shortcut; other kinds are not actions


def step_text(action: Action, element: dict[str, Any] | None, app: str | None) -> str:
    """A plain description of a step when the describe stage wrote none for it."""
    verbs = {"click": "Click", "double_click": "Double-click", "right_click": "Right-click",
             "middle_click": "Middle-click", "drag": "Drag"}
    where = f" in {app}" if app else ""
    if action.name in verbs:
        target = f" the {element['role']} '{element['name']}'" if element and element.get("name") else \
            f" at ({action.x:.2f}, {action.y:.2f})"
        return f"{verbs[action.name]}{target}{where}."
    if action.name == "scroll":
        way = "up" if action.dy > 0 else "down" if action.dy < 0 else "right" if action.dx > 0 else "left"
        return f"Scroll {way}{where}."
    if action.name == "hotkey":
        return f"Press {'+'.join(action.keys)}{where}."
    if action.name == "write":
        return f"Type {json.dumps(action.text, ensure_ascii=False)}{where}."
    if action.name == "terminate":
        return "The task is done."
    return "Wait for the screen to update."


class _Frames:
    """Frames of one episode, looked up by id or by time on one monitor."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self.all = frames
        self.by_id = {f["id"]: f for f in frames}

    def on(self, monitor: int | None) -> list[dict[str, Any]]:
        same = [f for f in self.all if monitor is not None and f["monitor"] == monitor]
        return same or self.all

    def around(self, row: dict[str, Any], monitor: int | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        cands = self.on(monitor)
        before = self.by_id.get(row.get("before_frame_id")) or next(
            (f for f in reversed(cands) if f["ts"] <= row["ts"]), None)
        after = self.by_id.get(row.get("after_frame_id")) or next(
            (f for f in cands if f["ts"] > row["ts"] and (before is None or f["ts"] > before["ts"])), None)
        return before, after


def _event_monitor(row: dict[str, Any], e: ev.Event | None) -> int | None:
    if row.get("monitor") is not None:
        return int(row["monitor"])
    return getattr(e, "monitor", None)


def _keys_with_text(parsed: list[ev.Event | None]) -> set[int]:
    """Indexes of key bursts whose text was stored (the opted-in Text event right beside each one)."""
    out: set[int] = set()
    for j, e in enumerate(parsed):
        if isinstance(e, ev.Text):
            k = next((i for i in (j - 1, j + 1) if 0 <= i < len(parsed) and isinstance(parsed[i], ev.Keys)
                      and i not in out), None)
            if k is not None:
                out.add(k)
    return out


def action_steps(frames: list[dict[str, Any]], events: list[dict[str, Any]], skipped: Counter[str]) -> list[Step]:
    """One Step per action event (texts not filled in yet), in time order."""
    fr = _Frames(frames)
    parsed = [ev.parse(r["kind"], r["details"]) for r in events]
    covered = _keys_with_text(parsed)
    steps: list[Step] = []
    for i, (row, e) in enumerate(zip(events, parsed)):
        before, after = fr.around(row, _event_monitor(row, e))
        if before is None:
            skipped["action before the first frame"] += int(e is not None and row["kind"] != "app_switch")
            continue
        mon = monitor_of(before)
        act = action_of(e, mon, i in covered)
        if isinstance(act, str):
            skipped[act] += 1
        if not isinstance(act, Action):
            continue
        element = _element(getattr(e, "element", None), mon) if act.name != "scroll" else None
        steps.append(Step(len(steps), row["ts"], act, before, after, mon, element, event_kind=row["kind"]))
    return steps


def _with_waits(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for s in steps:
        prev = out[-1] if out else None
        if (prev is not None and prev.after is not None and s.ts - prev.ts > WAIT_GAP_S
                and prev.after["image_hash"] != s.before["image_hash"]):
            out.append(Step(0, prev.after["ts"], Action("wait"), prev.after, s.before, monitor_of(prev.after)))
        out.append(s)
    return out


def build(episode: dict[str, Any], frames: list[dict[str, Any]], events: list[dict[str, Any]],
          description: dict[str, Any] | None, stored_instruction: str | None) -> Trajectory:
    """The trajectory of one episode (frames and events in time order, as the export queries return them)."""
    skipped: Counter[str] = Counter()
    steps = _with_waits(action_steps(frames, events, skipped))
    if steps:
        last = steps[-1].after or steps[-1].before
        end = frames[-1] if frames and frames[-1]["ts"] >= last["ts"] else last
        steps.append(Step(0, end["ts"], Action("terminate", status="success"), end, None, monitor_of(end)))
    texts = [str(t).strip() for t in (description or {}).get("steps") or []]
    acted = [s for s in steps if s.event_kind is not None]
    # The describe stage's steps are used when they match the actions one to one; else each step is
    # described from its action and element (never an empty template). Waits and the end are described here.
    given = dict(zip((id(s) for s in acted), texts)) if len(texts) == len(acted) and all(texts) else {}
    for i, s in enumerate(steps):
        s.index = i
        s.text = given.get(id(s)) or step_text(s.action, s.element, s.before.get("app"))
    return Trajectory(episode["id"], instruction_of(description, stored_instruction),
                      str((description or {}).get("summary") or ""), steps, skipped)


def redact(traj: Trajectory, red: Redactor) -> Trajectory:
    """Redact in place every text a trajectory export writes: instruction, summary, step texts, element names,
    typed text in ``write`` actions, and the window titles / app names of the frames."""
    where = {"episode": traj.episode_id}
    traj.instruction = red.text(traj.instruction, {**where, "field": "instruction"}) or ""
    traj.summary = red.text(traj.summary, {**where, "field": "summary"}) or ""
    for s in traj.steps:
        at = {**where, "step": s.index}
        s.text = red.text(s.text, {**at, "field": "step text"}) or ""
        if s.action.text is not None:
            s.action = replace(s.action, text=red.text(s.action.text, {**at, "field": "action text"}))
        if s.element is not None:
            s.element = {**s.element, "name": red.text(s.element.get("name") or "", {**at, "field": "element name"})}
        for key in ("before", "after"):
            f = getattr(s, key)
            if f is not None:
                setattr(s, key, {**f, "window_title": red.text(f.get("window_title"), {**at, "field": "window_title"}),
                                 "app": red.text(f.get("app"), {**at, "field": "app"})})
    return traj
