"""Step-level trajectory records: pure functions from the episode's action records and their stored steps.

One step per action record (storage/actions.py: the same records describe wrote its steps for), in the
documented action space (coordinates normalised to [0, 1] of the monitor the action happened on; the
monitor's pixel size travels with every step)::

    click(x, y)  double_click(x, y)  right_click(x, y)  middle_click(x, y)  drag(x1, y1, x2, y2)
    scroll(dx, dy[, x, y])  hotkey(keys)  write(text)  wait()  terminate(status)

Each step's text is the step stored for its action (storage/steps.py: the step writer's, a model's or the
person's edit); export writes no step text of its own and pairs no frames of its own.

- ``write`` carries the text typed: the keystrokes where the person opted in to storing them
  (``capture.store_typed_text``), else the text the step writer read on the screen at the caret between the
  burst's before and after frames (``text_source: "screen"``; never after a click on a password field, off
  with ``privacy.typed_from_screen = false``). A burst whose text is known neither way is not a step (counted
  in ``skipped``).
- ``scroll`` uses pynput's / pyautogui's sign: dy > 0 scrolls up, dx > 0 right.
- ``wait`` is inserted where the screen changed on its own: more than ``WAIT_GAP_S`` between two actions and
  the next action's before-frame differs from the previous action's after-frame.
- ``terminate('success')`` closes every trajectory, on the last frame (the person finished the task), or on
  the last kept action's after frame where the person trimmed the episode's end.

The person's step review (storage/step_review.py) reaches every step: a trim keeps only the actions from its
first to its last kept action (the others are not steps); a step's ``flag`` (``wrong`` | ``redundant``)
travels with it; ``replaced`` is the step writer's or model's text a person's edit replaced (a DPO pair).

The before and after frames are the action record's (one pairing for every reader); a step never uses a
frame from after its action as its observation.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from deskscribe.export.redact import Redactor
from deskscribe.storage import events as ev
from deskscribe.storage import steps as steplib
from deskscribe.storage.actions import ActionRecord, events_on, pair_actions
from deskscribe.storage.step_review import Trim, kept

WAIT_GAP_S = 5.0
DIGITS = 4
# The texts of the two steps the action space adds (no action of the person's): fixed, not written per step.
WAIT_TEXT = "Wait for the screen to update."
DONE_TEXT = "The task is done."
STEP_PROMPT = "What is the next action?"  # the question of every user turn of the chat formats


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
    event_id: int | None = None  # the action's event (steps and edits are keyed by it)
    author: str | None = None  # who wrote the step text: steps | model:<file> | person
    text_source: str | None = None  # where a write()'s text comes from: keys | screen
    reflection: dict[str, Any] | None = None  # a VLM's: changed, looks_right, by (or by + rejected: its reason)
    flag: str | None = None  # the person's mark: wrong | redundant
    replaced: str | None = None  # the step writer's / model's text the person's edit replaced

    @property
    def wrong(self) -> bool:
        return self.flag == "wrong"

    def thought_action(self, text: str | None = None) -> str:
        """The assistant turn of the chat formats (UI-TARS / Aguvis style); ``text``: another thought."""
        return f"Thought: {self.text if text is None else text}\nAction: {self.action.string()}"


@dataclass
class Trajectory:
    episode_id: int
    instruction: str
    summary: str
    steps: list[Step]
    skipped: Counter[str] = field(default_factory=Counter)
    instruction_by: str = "steps"  # who wrote the instruction: person | model | steps
    outcome: str | None = None  # task mode's done | gave_up; None where the person named no task
    trim: Trim | None = None  # the person's trim from the step review (storage/step_review.py)

    def history(self, i: int) -> list[str]:
        """The texts of the steps before step ``i`` (wrong ones too: they happened, the screen shows them)."""
        return [s.text for s in self.steps[:i]]

    def prompt(self, i: int, question: str) -> str:
        """The user turn before step ``i``: the task, the steps done so far, the question."""
        text = f"Task: {self.instruction}\n"
        if i:
            text += "Previous steps:\n" + "\n".join(f"{n + 1}. {t}" for n, t in enumerate(self.history(i))) + "\n"
        return text + question

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


def _typing(record: ActionRecord, stored: dict[str, Any] | None) -> Action | str:
    """A typing burst: write() of its text (the stored keystrokes, else what the step read on the screen),
    a lone key as hotkey(), else the reason it is not a step."""
    evidence = (stored or {}).get("evidence") or {}
    text = record.typed if record.typed else evidence.get("typed")
    e = record.event
    if text:
        if not record.typed and record.enter and not text.endswith("\n"):
            text += "\n"
        return Action("write", text=text)
    if isinstance(e, ev.Keys) and e.special and sum(e.special.values()) == e.count and len(e.special) == 1:
        return Action("hotkey", keys=(next(iter(e.special)),))
    return "typing not read from the screen"


def action_of(record: ActionRecord, mon: Monitor, stored: dict[str, Any] | None) -> Action | str | None:
    """The Action for one action record; a string says why it is skipped; None = not an action at all."""
    e = record.event
    if isinstance(e, (ev.Click, ev.Drag, ev.Scroll)):
        return _pointer_action(e, mon)
    if isinstance(e, ev.Shortcut):
        return Action("hotkey", keys=tuple(k for k in e.keys.split("+") if k)) if e.keys else "empty shortcut"
    if isinstance(e, (ev.Keys, ev.Text)):
        return _typing(record, stored)
    return None  # app switches follow from a click or shortcut; other kinds are not actions


def _source(record: ActionRecord, stored: dict[str, Any] | None, act: Action) -> str | None:
    if act.name != "write":
        return None
    return "keys" if record.typed else str(((stored or {}).get("evidence") or {}).get("text_source") or "screen")


def _replaced(step: dict[str, Any], rows: dict[int, dict[str, Any]]) -> str | None:
    """The text of the nearest step this person's step revises that the person did not write, when it differs."""
    if step.get("author") != steplib.AUTHOR_PERSON:
        return None
    seen: set[int] = set()
    cur = step
    while cur.get("parent_id") in rows and cur["parent_id"] not in seen:
        seen.add(cur["parent_id"])
        cur = rows[cur["parent_id"]]
        if cur.get("author") != steplib.AUTHOR_PERSON:
            return str(cur["text"]) if cur["text"] != step["text"] else None
    return None


def action_steps(frames: list[dict[str, Any]], records: list[ActionRecord], stored: dict[int, dict[str, Any]],
                 skipped: Counter[str], rows: dict[int, dict[str, Any]] | None = None) -> list[Step] | None:
    """One Step per action record with the step stored for it; None when an action has no stored step (the
    episode was described before steps were stored per action)."""
    by_id = {f["id"]: f for f in frames}
    steps: list[Step] = []
    for record in records:
        before, after = by_id.get(record.before), by_id.get(record.after)
        if before is None:
            skipped["action before the first frame"] += int(record.kind != "app_switch")
            continue
        mon = monitor_of(before)
        step = next((stored[i] for i in record.event_ids if i in stored), None)
        act = action_of(record, mon, step)
        if isinstance(act, str):
            skipped[act] += 1
        if not isinstance(act, Action):
            continue
        if step is None:
            return None
        element = _element(record.element, mon) if act.name != "scroll" else None
        steps.append(Step(len(steps), record.ts, act, before, after, mon, element, str(step["text"]), record.kind,
                          record.event_id, step.get("author"), _source(record, step, act),
                          (step.get("evidence") or {}).get("reflection"), step.get("flag"),
                          _replaced(step, rows or {})))
    return steps


def _with_waits(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for s in steps:
        prev = out[-1] if out else None
        if (prev is not None and prev.after is not None and s.ts - prev.ts > WAIT_GAP_S
                and prev.after["image_hash"] != s.before["image_hash"]):
            out.append(Step(0, prev.after["ts"], Action("wait"), prev.after, s.before, monitor_of(prev.after),
                            text=WAIT_TEXT))
        out.append(s)
    return out


def build(episode: dict[str, Any], frames: list[dict[str, Any]], events: list[dict[str, Any]],
          history: list[dict[str, Any]], stored_instruction: str | None, trim: Trim | None = None) -> Trajectory:
    """The trajectory of one episode (frames and events in time order, as the export queries return them;
    ``history``: its description revisions with their steps; ``trim``: the person's, storage/step_review.py).
    An episode with an action that has no stored step gets no steps (``skipped`` says why)."""
    skipped: Counter[str] = Counter()
    current = next((d for d in history if d.get("is_current")), None)
    records = pair_actions(frames, events, events_on(episode.get("source")))
    inside = kept(records, trim)
    trimmed = sum(1 for r, k in zip(records, inside) if not k and r.kind != "app_switch")
    if trimmed:
        skipped["action trimmed off by the person"] += trimmed
    records = [r for r, k in zip(records, inside) if k]
    rows = {int(r["id"]): r for d in history for r in d.get("step_rows") or [] if r.get("id") is not None}
    acted = action_steps(frames, records, steplib.by_event(history), skipped, rows)
    if acted is None:
        skipped["episode described before steps were stored per action (run deskscribe describe again)"] += 1
        acted = []
    steps = _with_waits(acted)
    if steps:
        last = steps[-1].after or steps[-1].before
        end = frames[-1] if frames and frames[-1]["ts"] >= last["ts"] and not (trim and trim.end_event_id) else last
        steps.append(Step(0, end["ts"], Action("terminate", status="success"), end, None, monitor_of(end),
                          text=DONE_TEXT))
    for i, s in enumerate(steps):
        s.index = i
    return Trajectory(episode["id"], instruction_of(current, stored_instruction),
                      str((current or {}).get("summary") or ""), steps, skipped, trim=trim)


def redact(traj: Trajectory, red: Redactor) -> Trajectory:
    """Redact in place every text a trajectory export writes: instruction, summary, step texts, element names,
    typed text in ``write`` actions, and the window titles / app names of the frames."""
    where = {"episode": traj.episode_id}
    traj.instruction = red.text(traj.instruction, {**where, "field": "instruction"}) or ""
    traj.summary = red.text(traj.summary, {**where, "field": "summary"}) or ""
    for s in traj.steps:
        at = {**where, "step": s.index}
        s.text = red.text(s.text, {**at, "field": "step text"}) or ""
        if s.replaced is not None:
            s.replaced = red.text(s.replaced, {**at, "field": "step text"})
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
