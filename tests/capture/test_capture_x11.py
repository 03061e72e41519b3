"""End to end on a real X display: xterm windows driven by xdotool, `deskscribe capture` as a subprocess."""

from __future__ import annotations

import json
import signal

import pytest

from .conftest import focus, let_ticks_pass, poll, write_config, xdo

pytestmark = pytest.mark.x11

CANARY = "zq7canaryVX93"


def test_titles_events_exclusion_and_no_typed_text(xdisplay, xterm, start_capture, capdb, deskscribe_home):
    write_config(deskscribe_home, {})
    alpha = xterm("deskscribe alpha", "cat", "100x30+0+0")
    vault = xterm("my password vault", "cat", "100x30+300+200", wm_class="Vault")
    beta = xterm("deskscribe beta", "cat", "60x10+700+500", wm_class="Beta")
    focus(alpha)
    proc = start_capture("--duration", "60")
    poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title = 'deskscribe alpha'"),
         what="a frame of the alpha window")

    xdo("type", "--delay", "15", f"hello {CANARY} world", display=None)
    xdo("key", "ctrl+shift+l")
    xdo("mousemove", "--window", alpha, "200", "150", "click", "1")
    xdo("click", "5", "click", "5")
    poll(lambda: {r[0] for r in capdb.rows("SELECT kind FROM events WHERE frame_id IS NOT NULL")}
         >= {"keys", "shortcut", "click", "scroll"}, what="linked keys/shortcut/click/scroll events")

    xdo("windowactivate", "--sync", vault)
    xdo("type", "--delay", "15", f"vault {CANARY} secret")
    xdo("mousemove", "--window", vault, "100", "100", "click", "1")
    xdo("windowactivate", "--sync", beta)
    xdo("type", "--delay", "15", "in beta")
    poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title = 'deskscribe beta'"), what="beta frame")
    xdo("windowactivate", "--sync", alpha)
    xdo("type", "--delay", "15", "back in alpha")
    poll(lambda: capdb.one("SELECT count(*) FROM events e JOIN frames f ON f.id = e.after_frame_id"
                           " WHERE e.kind = 'app_switch' AND f.window_title = 'deskscribe alpha'"),
         what="the switch back to alpha, with an alpha frame after it")
    assert proc.stop(signal.SIGTERM) == 0, proc.stderr()

    titles = {r[0] for r in capdb.rows("SELECT DISTINCT window_title FROM frames")}
    assert {"deskscribe alpha", "deskscribe beta"} <= titles
    assert not any("vault" in (t or "") for t in titles)
    assert {r[0] for r in capdb.rows("SELECT DISTINCT app FROM frames")} == {"XTerm", "Beta"}
    assert capdb.one("SELECT count(*) FROM frames WHERE app = 'Beta' AND window_title != 'deskscribe beta'") == 0
    # episodes split on the app switches: alpha, beta, alpha
    assert [json.loads(r[0]) for r in capdb.rows("SELECT apps FROM episodes ORDER BY id")][-3:] == [
        ["XTerm"], ["Beta"], ["XTerm"]]
    events = capdb.rows("SELECT e.kind, e.details, f.window_title FROM events e JOIN frames f ON f.id = e.frame_id")
    assert all(title in ("deskscribe alpha", "deskscribe beta") for _, _, title in events)
    switches = [json.loads(d) for k, d, _ in events if k == "app_switch"]
    assert {"from_app": "Beta", "to_app": "XTerm", "title": "deskscribe alpha"} in switches
    assert all(s.get("to_app") != "Vault" and s.get("from_app") != "Vault" for s in switches)
    assert ("shortcut", json.dumps({"keys": "ctrl+shift+l"}), "deskscribe alpha") in events
    clicks = [json.loads(d) for k, d, _ in events if k == "click"]
    assert clicks and all(c["button"] == "left" for c in clicks)
    keys = sum(json.loads(d)["count"] for k, d, _ in events if k == "keys")
    assert keys >= len(f"hello {CANARY} world")
    assert not [k for k, _, _ in events if k == "text"]
    assert not any("vault" in d for _, d, _ in events)
    assert capdb.one("SELECT count(*) FROM events WHERE frame_id IS NULL") == 0
    assert capdb.one("SELECT count(*) FROM episodes WHERE closed = 0") == 0

    for path in deskscribe_home.iterdir():
        if path.name.startswith("deskscribe.db"):
            assert CANARY.encode() not in path.read_bytes(), path
    assert CANARY not in (deskscribe_home / "logs" / "capture.log").read_text()


def test_pause_resume_lock_and_signals(xdisplay, xterm, start_capture, capdb, deskscribe_home):
    from click.testing import CliRunner
    from Xlib import X, display

    from deskscribe.cli import main

    write_config(deskscribe_home, {})
    xterm("ticker", "while sleep 0.1; do date +%s.%N; done", "60x20+0+0")
    proc = start_capture()
    poll(lambda: capdb.frames() >= 2, what="frames")
    runner = CliRunner()

    assert runner.invoke(main, ["pause"]).exit_code == 0
    poll(lambda: capdb.state().get("state") == "paused", what="paused state")
    status = runner.invoke(main, ["status", "--json"])
    assert json.loads(status.output)["state"] == "paused" and json.loads(status.output)["paused_until"] == "forever"
    paused_at = capdb.one("SELECT max(id) FROM frames")
    let_ticks_pass(1.5)  # five capture intervals on a screen that changes ten times a second
    assert capdb.one("SELECT max(id) FROM frames") == paused_at
    assert runner.invoke(main, ["resume"]).exit_code == 0
    poll(lambda: capdb.one("SELECT max(id) FROM frames") > paused_at, what="frames after resume")

    proc.proc.send_signal(signal.SIGUSR1)
    poll(lambda: capdb.state().get("state") == "paused", what="paused by SIGUSR1")
    proc.proc.send_signal(signal.SIGUSR2)
    poll(lambda: capdb.state().get("state") == "capturing", what="resumed by SIGUSR2")

    conn = display.Display(xdisplay)  # the X screen saver on = what screen lockers turn on
    conn.force_screen_saver(X.ScreenSaverActive)
    conn.sync()
    try:
        poll(lambda: capdb.state().get("message") == "the screen is locked", what="locked state")
        locked_at = capdb.one("SELECT max(id) FROM frames")
        let_ticks_pass(1.0)
        assert capdb.one("SELECT max(id) FROM frames") == locked_at
    finally:
        conn.force_screen_saver(X.ScreenSaverReset)
        conn.sync()
        conn.close()
    poll(lambda: capdb.one("SELECT max(id) FROM frames") > locked_at, what="frames after unlock")
    assert proc.stop(signal.SIGINT) == 0, proc.stderr()
    assert capdb.state()["state"] == "stopped"
    out = runner.invoke(main, ["status"]).output
    assert out.startswith("capture   stopped") and "frames" in out and "database" in out


def test_low_disk_space_pauses_capture(xdisplay, xterm, start_capture, capdb, deskscribe_home):
    write_config(deskscribe_home, {"capture": {"min_free_mb": 10**9}})
    xterm("ticker", "while sleep 0.1; do date +%N; done", "40x10+0+0")
    proc = start_capture()
    state = poll(lambda: capdb.state().get("state") == "disk_full" and capdb.state(), what="disk_full state")
    assert "MB free" in state["message"]
    assert capdb.frames() == 0
    assert proc.stop() == 0
    log = (deskscribe_home / "logs" / "capture.log").read_text()  # said in the log too, once
    assert log.count("capture pauses until space is freed") == 1, log


def test_typed_text_opt_in_never_in_excluded_windows(xdisplay, xterm, start_capture, capdb, deskscribe_home):
    write_config(deskscribe_home, {"capture": {"store_typed_text": True}})
    notes = xterm("plain notes", "cat", "80x20+0+0")
    vault = xterm("bank secret", "cat", "80x20+100+100")
    xdo("windowactivate", "--sync", notes)
    proc = start_capture()
    poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title = 'plain notes'"), what="a notes frame")
    xdo("type", "--delay", "15", "visible words")
    poll(lambda: capdb.rows("SELECT 1 FROM events WHERE kind = 'text' AND details LIKE '%visible words%'"),
         what="the opted-in text")
    xdo("windowactivate", "--sync", vault)
    xdo("type", "--delay", "15", f"hidden {CANARY}")
    xdo("windowactivate", "--sync", notes)
    xdo("type", "--delay", "15", "after")
    poll(lambda: capdb.rows("SELECT 1 FROM events WHERE kind = 'text' AND details LIKE '%after%'"),
         what="text after leaving the excluded window")
    assert proc.stop() == 0
    for path in deskscribe_home.iterdir():
        if path.name.startswith("deskscribe.db"):
            assert CANARY.encode() not in path.read_bytes() and b"hidden" not in path.read_bytes(), path


def test_input_in_an_excluded_window_is_dropped_at_once(xdisplay, xterm, start_capture, capdb, deskscribe_home):
    """Before: input made in an excluded window was dropped only if a tick saw that window; with a long
    interval, keys, a shortcut and a click made there landed on the next allowed frame."""
    write_config(deskscribe_home, {"capture": {"interval_s": 30.0}})
    notes = xterm("plain notes", "cat", "80x20+0+0")
    vault = xterm("my password vault", "cat", "80x20+200+200", wm_class="Vault")
    focus(notes)
    proc = start_capture()
    poll(lambda: capdb.frames(), what="the first frame")
    focus(vault)
    xdo("type", "--delay", "15", "hidden words")
    xdo("key", "ctrl+shift+k")
    xdo("mousemove", "--window", vault, "50", "50", "click", "3")
    focus(notes)
    xdo("type", "--delay", "15", "seen")
    xdo("mousemove", "--window", notes, "60", "60", "click", "1")
    poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'click'"), what="the click in notes")
    assert proc.stop() == 0, proc.stderr()
    rows = [(k, json.loads(d)) for k, d in capdb.rows("SELECT kind, details FROM events")]
    assert sum(d["count"] for k, d in rows if k == "keys") == len("seen")
    assert [d["button"] for k, d in rows if k == "click"] == ["left"]  # not the right click in the vault
    assert not [d for k, d in rows if k == "shortcut"]
    assert not capdb.rows("SELECT 1 FROM frames WHERE window_title LIKE '%vault%'")
