"""Step records from frames and events (pure functions, no database)."""

from __future__ import annotations

from typing import Any

from deskscribe.export.redact import Redactor, Report
from deskscribe.export.trajectory import Monitor, build, instruction_of, redact
from deskscribe.storage import events as ev


def frame(fid: int, ts: float, *, monitor: int = 1, w: int = 1280, h: int = 800,
          img: str | None = None) -> dict[str, Any]:
    return {"id": fid, "ts": ts, "monitor": monitor, "width": w, "height": h, "app": "mousepad",
            "window_title": "notes.txt", "image_hash": img or f"h{fid}"}


def event(ts: float, e: Any, **extra: Any) -> dict[str, Any]:
    return {"id": int(ts * 10), "ts": ts, "kind": e.kind, "details": ev.to_details(e), "frame_id": None, **extra}


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
    t = build(EP, frames, events, {"summary": "Saved notes.", "steps": []}, None)
    got = [s.action.string() for s in t.steps]
    assert got == [
        "click(x=0.2578, y=0.225)", "double_click(x=0.5, y=0.5)", "right_click(x=0.0078, y=0.025)",
        "drag(x1=0.0781, y1=0.125, x2=0.2344, y2=0.25)", "scroll(dx=0, dy=-3, x=0.5, y=0.5)",
        'hotkey(keys=["ctrl", "s"])', 'write(text="hello")', 'hotkey(keys=["enter"])',
        'terminate(status="success")']
    assert t.skipped == {"typing without stored text": 1, "click without a position": 1}
    # the observation is the last frame at or before the action, the after-frame the next one
    assert [(s.before["id"], s.after and s.after["id"]) for s in t.steps[:3]] == [(1, 2), (2, 3), (2, 3)]
    assert t.steps[-1].before["id"] == 4 and t.steps[-1].after is None
    click = t.steps[0]
    assert click.element["box"] == [0.25, 0.2087, 0.0305, 0.0312] and click.element["box_px"] == [320, 167, 39, 25]
    bx, by, bw, bh = click.element["box"]
    assert bx <= click.action.x <= bx + bw and by <= click.action.y <= by + bh
    assert click.text == "Click the menu 'File' in mousepad."
    assert t.steps[0].action.code() == "pyautogui.click(x=0.2578, y=0.225)"
    assert t.steps[4].action.code() == "pyautogui.moveTo(x=0.5, y=0.5)\npyautogui.scroll(-3)"
    assert t.steps[5].action.code() == "pyautogui.hotkey('ctrl', 's')"
    assert t.steps[7].action.code() == "pyautogui.press('enter')"
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
    t = build(EP, frames, events, {"summary": "s", "steps": []}, "Open the menu")
    assert t.steps[0].before["id"] == 2 and t.steps[0].monitor == Monitor(2, 0, 0, 1920, 1080)
    assert t.steps[0].action.point == (0.0521, 0.0463)
    assert t.skipped["point outside its monitor"] == 1
    assert t.steps[1].before["id"] == 3
    assert t.instruction == "Open the menu"
    assert t.monitors() == [Monitor(2, 0, 0, 1920, 1080).to_json(), Monitor(1, 0, 0, 1280, 800).to_json()]


def test_wait_descriptions_and_nothing_before_the_first_frame() -> None:
    frames = [frame(1, 1.0), frame(2, 2.0), frame(3, 9.0)]
    events = [event(0.5, ev.Click(1, 1)), event(1.5, ev.Click(5, 5)), event(9.5, ev.Click(6, 6))]
    desc = {"summary": "s", "steps": ["Open it", "Close it"]}
    t = build(EP, frames, events, desc, None)
    assert [s.action.name for s in t.steps] == ["click", "wait", "click", "terminate"]
    assert t.steps[1].before["id"] == 2 and t.steps[1].after["id"] == 3
    assert t.skipped == {"action before the first frame": 1}
    # one text per action: the describe stage's own; the wait and the end are described from the action
    assert [s.text for s in t.steps] == ["Open it", "Wait for the screen to update.", "Close it", "The task is done."]
    t2 = build(EP, frames, events, {"summary": "s", "steps": ["too few"]}, None)
    assert t2.steps[0].text == "Click at (0.00, 0.01) in mousepad."


def test_no_actions_no_steps_and_instruction_fallbacks() -> None:
    assert build(EP, [frame(1, 0.0)], [], None, None).steps == []
    assert instruction_of({"summary": "did x", "instruction": "Do x"}, None) == "Do x"
    assert instruction_of({"summary": "did x"}, "  Please do y ") == "Please do y"
    assert instruction_of(None, None) == ""


def test_redaction_of_element_names_action_text_and_titles() -> None:
    secret = "AKIAZ7QK3M9XW2PLR4TB"
    frames = [{**frame(1, 0.0), "window_title": f"creds {secret}"}, frame(2, 1.0)]
    events = [event(0.5, ev.Click(330, 180, element=ev.Element("entry", f"key {secret}", (300, 160, 100, 30)))),
              event(0.6, ev.Text(f"export KEY={secret}"))]
    report = Report()
    t = redact(build(EP, frames, events, {"summary": f"used {secret}", "steps": []}, f"Paste {secret}"),
               Redactor(report))
    flat = repr([(s.text, s.action, s.element, s.before, s.after) for s in t.steps]) + t.instruction + t.summary
    assert secret not in flat
    fields = {e["where"]["field"] for e in report.to_json()["findings"]}
    assert {"element name", "action text", "window_title", "instruction", "summary", "step text"} <= fields
