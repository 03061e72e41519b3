"""Step records from frames, events and the stored steps (pure functions, no database)."""

from __future__ import annotations

import itertools
from typing import Any

from deskscribe.export.redact import Redactor, Report
from deskscribe.export.trajectory import Monitor, build, instruction_of, redact
from deskscribe.storage import events as ev


def frame(fid: int, ts: float, *, monitor: int = 1, w: int = 1280, h: int = 800,
          img: str | None = None) -> dict[str, Any]:
    return {"id": fid, "ts": ts, "monitor": monitor, "width": w, "height": h, "app": "mousepad",
            "window_title": "notes.txt", "image_hash": img or f"h{fid}"}


_ids = itertools.count(1)


def event(ts: float, e: Any, **extra: Any) -> dict[str, Any]:
    return {"id": next(_ids), "ts": ts, "kind": e.kind, "details": ev.to_details(e), "frame_id": None, **extra}


def described(events: list[dict[str, Any]], summary: str = "s", texts: dict[int, str] | None = None,
              evidence: dict[int, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A description history whose current revision has a stored step for every event (as describe stores)."""
    rows = [{"event_id": e["id"], "text": (texts or {}).get(i, f"step {i}"), "author": "steps",
             "evidence": (evidence or {}).get(i, {})} for i, e in enumerate(events)]
    return [{"revision": 1, "is_current": True, "summary": summary, "steps": [r["text"] for r in rows],
             "step_rows": rows}]


EP = {"id": 7, "status": "accepted"}
FILE_MENU = ev.Element("menu", "File", (320, 167, 39, 25), "mousepad")


def test_actions_coordinates_and_frames() -> None:
    frames = [frame(1, 0.0), frame(2, 1.0), frame(3, 2.0), frame(4, 3.0)]
    events = [
        event(0.5, ev.Click(330, 180, monitor=1, element=FILE_MENU)),
        event(1.5, ev.Click(640, 400, count=2)),
        event(1.6, ev.Click(10, 20, button="right")),
        event(2.2, ev.Drag(100, 100, 300, 200)),
        event(2.4, ev.Scroll(0, -3, 3, 640, 400)),
        event(2.5, ev.Shortcut("ctrl+s")),
        event(2.6, ev.Keys(5)),
        event(2.6, ev.Text("hello")),
        event(2.7, ev.Keys(3)),  # typed text nobody stored: not a step
        event(2.8, ev.Keys(1, {"enter": 1}, "enter")),
        event(2.9, ev.AppSwitch("mousepad", "xterm", "t")),
        event(3.5, ev.Click(None, None)),
    ]
    history = described(events, "Saved notes.", {0: "Clicked the 'File' menu in Mousepad"})
    t = build(EP, frames, events, history, None)
    got = [s.action.string() for s in t.steps]
    assert got == [
        "click(x=0.2578, y=0.225)", "double_click(x=0.5, y=0.5)", "right_click(x=0.0078, y=0.025)",
        "drag(x1=0.0781, y1=0.125, x2=0.2344, y2=0.25)", "scroll(dx=0, dy=-3, x=0.5, y=0.5)",
        'hotkey(keys=["ctrl", "s"])', 'write(text="hello")', 'terminate(status="success")']
    # three keys and the lone Enter after them are one burst (as describe reads it); its text was neither
    # stored nor read from the screen
    assert t.skipped == {"typing not read from the screen": 1, "click without a position": 1}
    # the observation is the last frame at or before the action, the after-frame the next one
    assert [(s.before["id"], s.after and s.after["id"]) for s in t.steps[:3]] == [(1, 2), (2, 3), (2, 3)]
    assert t.steps[-1].before["id"] == 4 and t.steps[-1].after is None
    click = t.steps[0]
    assert click.element["box"] == [0.25, 0.2087, 0.0305, 0.0312] and click.element["box_px"] == [320, 167, 39, 25]
    bx, by, bw, bh = click.element["box"]
    assert bx <= click.action.x <= bx + bw and by <= click.action.y <= by + bh
    assert click.text == "Clicked the 'File' menu in Mousepad" and click.event_id == events[0]["id"]
    assert [s.text for s in t.steps[1:4]] == ["step 1", "step 2", "step 3"]  # each action's own stored step
    assert t.steps[6].text == "step 6" and t.steps[6].text_source == "keys"  # the typed text's burst
    assert t.steps[0].action.code() == "pyautogui.click(x=0.2578, y=0.225)"
    assert t.steps[4].action.code() == "pyautogui.moveTo(x=0.5, y=0.5)\npyautogui.scroll(-3)"
    assert t.steps[5].action.code() == "pyautogui.hotkey('ctrl', 's')"
    assert t.instruction == "Saved notes."  # no instruction stored: the summary
    assert t.history(2) == [t.steps[0].text, t.steps[1].text]
    assert [s.index for s in t.steps] == list(range(len(t.steps)))


def test_linked_frames_monitors_and_points_off_the_monitor() -> None:
    frames = [frame(1, 0.0, monitor=1), frame(2, 0.1, monitor=2, w=1920, h=1080), frame(3, 5.0, monitor=1)]
    events = [
        event(1.0, ev.Click(100, 50, monitor=2), before_frame_id=None),
        event(2.0, ev.Click(2000, 50, monitor=1)),  # not on monitor 1 (1280 wide): skipped, not clamped
        event(3.0, ev.Click(10, 10), before_frame_id=3, after_frame_id=None),  # capture's link wins
    ]
    t = build(EP, frames, events, described(events), "Open the menu")
    assert t.steps[0].before["id"] == 2 and t.steps[0].monitor == Monitor(2, 0, 0, 1920, 1080)
    assert t.steps[0].action.point == (0.0521, 0.0463)
    assert t.skipped["point outside its monitor"] == 1
    assert t.steps[1].before["id"] == 3
    assert t.instruction == "Open the menu"
    assert t.monitors() == [Monitor(2, 0, 0, 1920, 1080).to_json(), Monitor(1, 0, 0, 1280, 800).to_json()]


def test_wait_descriptions_and_nothing_before_the_first_frame() -> None:
    frames = [frame(1, 1.0), frame(2, 2.0), frame(3, 9.0)]
    events = [event(0.5, ev.Click(1, 1)), event(1.5, ev.Click(5, 5)), event(9.5, ev.Click(6, 6))]
    t = build(EP, frames, events, described(events, texts={1: "Open it", 2: "Close it"}), None)
    assert [s.action.name for s in t.steps] == ["click", "wait", "click", "terminate"]
    assert t.steps[1].before["id"] == 2 and t.steps[1].after["id"] == 3
    assert t.skipped == {"action before the first frame": 1}
    # each action's stored step; the wait and the end are the action space's own two texts
    assert [s.text for s in t.steps] == ["Open it", "Wait for the screen to update.", "Close it", "The task is done."]


def test_an_episode_described_before_steps_were_stored_per_action_has_no_steps() -> None:
    frames = [frame(1, 1.0), frame(2, 2.0)]
    events = [event(1.5, ev.Click(5, 5))]
    old = [{"revision": 1, "is_current": True, "summary": "s", "steps": ["Clicked"],
            "step_rows": [{"event_id": None, "text": "Clicked", "author": "steps", "evidence": {}}]}]
    t = build(EP, frames, events, old, None)
    assert t.steps == [] and "run deskscribe describe again" in next(iter(t.skipped))


def test_a_person_edit_of_a_step_is_exported_in_that_step() -> None:
    frames = [frame(1, 1.0), frame(2, 2.0), frame(3, 3.0)]
    events = [event(1.5, ev.Click(5, 5)), event(2.5, ev.Click(6, 6))]
    history = described(events, texts={0: "Clicked 'A'", 1: "Clicked 'B'"})
    history[0]["is_current"] = False
    edit = {"revision": 2, "is_current": True, "summary": "s", "steps": ["Clicked 'A'", "Opened the B menu"],
            "step_rows": [dict(history[0]["step_rows"][0]),
                          {**history[0]["step_rows"][1], "text": "Opened the B menu", "author": "person"}]}
    t = build(EP, frames, events, [*history, edit], None)
    assert [(s.text, s.author) for s in t.steps[:2]] == [("Clicked 'A'", "steps"), ("Opened the B menu", "person")]


def test_typing_read_from_the_screen_is_a_write_step() -> None:
    frames = [frame(1, 1.0), frame(2, 2.0)]
    events = [event(1.5, ev.Keys(7, {"enter": 1}, "enter"))]
    history = described(events, texts={0: "Ran `ls -la` in the terminal"},
                        evidence={0: {"typed": "ls -la", "text_source": "screen", "enter": True}})
    t = build(EP, frames, events, history, None)
    assert t.steps[0].action.string() == 'write(text="ls -la\\n")' and t.steps[0].text_source == "screen"
    assert t.steps[0].action.code() == 'pyautogui.write("ls -la\\n")'


def test_no_actions_no_steps_and_instruction_fallbacks() -> None:
    assert build(EP, [frame(1, 0.0)], [], [], None).steps == []
    assert instruction_of({"summary": "did x", "instruction": "Do x"}, None) == "Do x"
    assert instruction_of({"summary": "did x"}, "  Please do y ") == "Please do y"
    assert instruction_of(None, None) == ""


def test_redaction_of_element_names_action_text_and_titles() -> None:
    secret = "AKIAZ7QK3M9XW2PLR4TB"
    frames = [{**frame(1, 0.0), "window_title": f"creds {secret}"}, frame(2, 1.0)]
    events = [event(0.5, ev.Click(330, 180, element=ev.Element("entry", f"key {secret}", (300, 160, 100, 30)))),
              event(0.6, ev.Text(f"export KEY={secret}"))]
    report = Report()
    history = described(events, f"used {secret}", {1: f"Typed 'export KEY={secret}'"})
    t = redact(build(EP, frames, events, history, f"Paste {secret}"), Redactor(report))
    flat = repr([(s.text, s.action, s.element, s.before, s.after) for s in t.steps]) + t.instruction + t.summary
    assert secret not in flat
    fields = {e["where"]["field"] for e in report.to_json()["findings"]}
    assert {"element name", "action text", "window_title", "instruction", "summary", "step text"} <= fields


def test_the_persons_trim_flags_and_edits_reach_the_steps() -> None:
    from deskscribe.export.formats_trajectories import chunks
    from deskscribe.storage.step_review import Trim

    frames = [frame(i, float(i)) for i in range(1, 6)]
    events = [event(i + 0.5, ev.Click(10 * i, 10 * i)) for i in range(1, 5)]
    history = described(events)
    rows = history[0]["step_rows"]
    for i, r in enumerate(rows):
        r["id"] = 100 + i
    person = [dict(r, id=200 + i, parent_id=r["id"]) for i, r in enumerate(rows)]
    person[0].update(text="Opened the File menu", author="person")  # an edit: replaces the step writer's text
    person[1]["flag"] = "wrong"
    person[2]["flag"] = "redundant"
    history = [{**history[0], "is_current": False},
               {"revision": 2, "is_current": True, "summary": "s", "steps": [], "step_rows": person}]
    t = build(EP, frames, events, history, "Save the notes", Trim(None, events[2]["id"]))
    assert [s.event_id for s in t.steps[:-1]] == [e["id"] for e in events[:3]]  # the last click is trimmed off
    assert t.skipped == {"action trimmed off by the person": 1}
    assert t.steps[-1].action.name == "terminate" and t.steps[-1].before["id"] == frames[3]["id"]  # not the last frame
    assert [s.flag for s in t.steps] == [None, "wrong", "redundant", None]
    assert t.steps[0].replaced == "step 0" and t.steps[1].replaced is None  # a flag alone replaces no text
    assert [[s.index for s in c] for c in chunks(t, 10)] == [[0], [2, 3]]  # the wrong step is no chat turn
    assert [[s.index for s in c] for c in chunks(t, 1)] == [[0], [2], [3]]
    assert "2. step 1" in t.prompt(2, "What is the next action?")  # it happened: the next chat lists it
