"""Live-captured, scripted sessions (Xvfb + openbox, real xterm and mousepad windows, xdotool input that
pynput records, `deskscribe capture` as a subprocess, AT-SPI over a private D-Bus session) exported as
trajectories: every click step points where xdotool clicked, inside its element's box where one was exposed;
the excluded window never appears."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from deskscribe.export.core import ExportOptions, export
from deskscribe.storage import descriptions as D
from deskscribe.storage.db import open_db

from ..capture.conftest import (  # noqa: F401 (fixtures)
    capdb,
    focus,
    poll,
    start_capture,
    write_config,
    xdo,
    xterm,
)
from ..conftest import stop_process

pytestmark = pytest.mark.x11
CLICKS = [(200, 150), (420, 260), (90, 330)]  # desktop pixels, all inside the alpha window
CANARY = "vaultcanary7Q"
SLOW = 120  # seconds: conditions waited on, generous because the test machines are often heavily loaded


def _review_and_export(home: Path, tmp_path: Path, ocr: Any, instruction: str) -> tuple[Path, Path, Any]:
    """Describe every captured episode with the defaults (the steps are stored per action), accept it with the
    person's instruction; export hf and jsonl; load the steps."""
    from datasets import load_dataset

    from deskscribe import config
    from deskscribe.models.describe import run_batch

    db = open_db(home / "deskscribe.db")
    result = run_batch(db, config.load())
    assert not result.failed, result.failed
    for (eid,) in db.conn.execute("SELECT id FROM episodes ORDER BY id").fetchall():
        D.review(db, eid, "accepted")
        D.add_instruction(db, eid, instruction)
    ro = open_db(home / "deskscribe.db", readonly=True)
    hf = export(ro, "hf", tmp_path / "hf", ExportOptions(val_fraction=0, max_side=0), ocr=ocr).out_dir
    jl = export(ro, "jsonl", tmp_path / "jl", ExportOptions(val_fraction=0, max_side=0), ocr=ocr).out_dir
    ro.conn.close()
    db.conn.close()
    steps = load_dataset(str(hf), "trajectories", split="train", cache_dir=str(tmp_path / "cache"))
    for r in steps:
        r["image"].load()  # every image decodes
        assert isinstance(r["image"], Image.Image) and r["image"].size == (r["screen_width"], r["screen_height"])
        assert r["instruction"] == instruction
    return hf, jl, steps


def _check_clicks(steps: Any, clicked: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Every click step is one of the clicks made, and lies inside its element's box where there is one."""
    clicks = [r for r in steps if r["action_type"] == "click"]
    for r in clicks:
        px = (r["point"][0] * r["screen_width"], r["point"][1] * r["screen_height"])
        assert any(abs(px[0] - x) <= 1 and abs(px[1] - y) <= 1 for x, y in clicked), (px, clicked)
        if r["element_box"]:
            bx, by, bw, bh = r["element_box"]
            assert bx <= r["point"][0] <= bx + bw and by <= r["point"][1] <= by + bh, r
    return clicks


def test_live_session_exports_grounded_click_steps(xdisplay, xterm, start_capture, capdb,  # noqa: F811
                                                   deskscribe_home: Path, tmp_path: Path, ocr) -> None:
    write_config(deskscribe_home, {"capture": {"store_typed_text": True}})
    alpha = xterm("traj alpha", "cat", "100x30+0+0")
    vault = xterm("my password vault", "cat", "60x10+650+450", wm_class="Vault")
    focus(alpha)  # the vault, mapped last, can still take the focus from a bare windowactivate
    proc = start_capture("--duration", "600")
    poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title = 'traj alpha'"),
         what="an alpha frame", timeout=SLOW)
    for n, (x, y) in enumerate(CLICKS, 1):
        xdo("mousemove", str(x), str(y), "click", "1")
        poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'click' AND frame_id IS NOT NULL") >= n,
             what=f"click {n} stored", timeout=SLOW)
    xdo("type", "--delay", "20", "echo hi")
    xdo("key", "Return")
    poll(lambda: capdb.rows("SELECT 1 FROM events WHERE kind = 'text' AND details LIKE '%echo hi%'"),
         what="text", timeout=SLOW)
    xdo("windowactivate", "--sync", vault)
    poll(lambda: "excluded window" in capdb.state().get("message", ""),
         what="capture sees the excluded window", timeout=SLOW)
    xdo("type", "--delay", "20", CANARY)
    xdo("mousemove", "700", "480", "click", "1")
    xdo("windowactivate", "--sync", alpha)  # at once: capture drops input in excluded windows as it comes
    xdo("mousemove", str(CLICKS[0][0]), str(CLICKS[0][1]), "click", "1")
    poll(lambda: capdb.one("SELECT count(*) FROM events e JOIN frames f ON f.id = e.frame_id"
                           " WHERE e.kind = 'app_switch' AND f.window_title = 'traj alpha'"),
         what="back in alpha", timeout=SLOW)
    assert proc.stop(signal.SIGTERM) == 0, proc.stderr()

    hf, jl, steps = _review_and_export(deskscribe_home, tmp_path, ocr, "Click through the terminal and run echo hi")
    clicks = _check_clicks(steps, CLICKS)
    assert len(clicks) >= len(CLICKS)
    assert any(r["action"] == 'write(text="echo hi\\n")' for r in steps), [r["action"] for r in steps]

    records = [json.loads(line) for line in (jl / "trajectories.jsonl").read_text().splitlines()]
    titles = {s["window_title"] for t in records for s in t["traj"]}
    assert titles == {"traj alpha"}, titles  # the excluded window is never a step
    for out in (hf, jl):
        for p in out.rglob("*"):
            if p.is_file():
                data = p.read_bytes()
                assert CANARY.encode() not in data and b"password vault" not in data, p


@pytest.fixture
def dbus_session() -> Iterator[dict[str, str]]:
    """A private D-Bus session bus (AT-SPI's registry and bus are activated on it on demand)."""
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    assert address.startswith("unix:"), address
    yield {"DBUS_SESSION_BUS_ADDRESS": address}
    # What the bus activated (at-spi bus launcher, its bus, the registry) outlives it, reparented, and would
    # answer the next test that gets the same display number: stop those processes too.
    started = _descendants(proc.pid)
    stop_process(proc)
    proc.stdout.close()
    for pid in reversed(started):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents before children (read from /proc)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(stat.parent.name)] = int(fields[1])
    out, todo = [], [pid]
    while todo:
        here = todo.pop(0)
        kids = [c for c, p in parent.items() if p == here]
        out += kids
        todo += kids
    return out


def open_mousepad(path: Path, tmp_path: Path, dbus_session: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Mousepad on ``path`` at the desktop's top left, on the test's session bus, with its own XDG folders
    (no session of an earlier run to restore); returns the process and its visible window."""
    xdg = {f"XDG_{k}_HOME": str(tmp_path / "xdg" / k.lower()) for k in ("CONFIG", "DATA", "CACHE", "STATE")}
    pad = subprocess.Popen(["mousepad", str(path)], env={**os.environ, **dbus_session, **xdg},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    search = ["xdotool", "search", "--onlyvisible", "--name", path.name]  # GTK also maps hidden windows
    wid = poll(lambda: subprocess.run(search, capture_output=True, text=True).stdout.split()[:1],
               what="the mousepad window", timeout=SLOW)[0]
    xdo("windowmove", "--sync", wid, "0", "0")
    return pad, wid


MOUSEPAD_CLICKS = [(300, 200), (120, 320), (500, 400)]  # inside mousepad's text area once moved to 0,0


def _published(dbus_session: dict[str, str], monkeypatch: pytest.MonkeyPatch, points: list[tuple[int, int]]) -> None:
    """Wait until the app has registered its window on the accessibility bus (GTK does it asynchronously after
    the window maps; on a loaded machine seconds later): a person's first click comes after that too."""
    from deskscribe.capture.accessibility.atspi import AtspiProbe

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", dbus_session["DBUS_SESSION_BUS_ADDRESS"])
    probe = AtspiProbe()

    def every_point_answers() -> bool:
        try:
            return all(probe.element_at(x, y, deadline_s=5) for x, y in points)
        except (TimeoutError, LookupError):  # the app is still building its tree
            return False

    try:
        poll(every_point_answers, what="mousepad's window on the accessibility bus", timeout=SLOW)
    finally:
        probe.close()


def test_live_mousepad_clicks_lie_inside_their_elements(xdisplay, start_capture, capdb, dbus_session,  # noqa: F811
                                                        deskscribe_home: Path, tmp_path: Path, ocr,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # mousepad keeps a session (and asks to restore it) in dconf and XDG data: give it folders of its own
    xdg = {f"XDG_{k}_HOME": str(tmp_path / "xdg" / k.lower()) for k in ("CONFIG", "DATA", "CACHE", "STATE")}
    env = {**os.environ, **dbus_session, **xdg}
    write_config(deskscribe_home, {"capture": {"store_typed_text": True}})
    notes = tmp_path / "notes.txt"
    notes.write_text("first line\n")
    pad = subprocess.Popen(["mousepad", str(notes)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        search = ["xdotool", "search", "--onlyvisible", "--name", "notes.txt"]  # GTK also maps hidden windows
        wid = poll(lambda: subprocess.run(search, capture_output=True, text=True).stdout.split()[:1],
                   what="the mousepad window", timeout=SLOW)[0]
        xdo("windowmove", "--sync", wid, "0", "0")
        focus(wid)
        _published(dbus_session, monkeypatch, MOUSEPAD_CLICKS)
        proc = start_capture("--duration", "600", env=dbus_session)
        poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title LIKE '%notes.txt%'"),
             what="a frame", timeout=SLOW)
        for n, (x, y) in enumerate(MOUSEPAD_CLICKS, 1):
            xdo("mousemove", str(x), str(y), "click", "1")
            poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'click'"
                                   " AND details LIKE '%\"element\"%'") >= n,
                 what=f"click {n} with its element looked up", timeout=SLOW)
        xdo("type", "--delay", "20", "second")
        poll(lambda: capdb.rows("SELECT 1 FROM events WHERE kind = 'text' AND details LIKE '%second%'"),
             what="text", timeout=SLOW)
        assert proc.stop(signal.SIGTERM) == 0, proc.stderr()
    finally:
        stop_process(pad)
    _hf, _jl, steps = _review_and_export(deskscribe_home, tmp_path, ocr, "Click into the notes and type second")
    clicks = _check_clicks(steps, MOUSEPAD_CLICKS)
    with_element = [r for r in clicks if r["element_box"]]
    assert len(clicks) >= len(MOUSEPAD_CLICKS) and len(with_element) >= len(MOUSEPAD_CLICKS), clicks
    assert {r["element_role"] for r in with_element} == {"text"}
    assert any(r["action"].startswith('write(text="second') for r in steps)


COMMANDS = ["echo quarterly report draft > notes.txt", "ls -la", "cat notes.txt"]
LINES = ["Budget review moved to Friday", "Invite Dana and Luis"]


def _similar(a: str, b: str) -> float:
    import difflib
    import re

    norm = lambda s: re.sub(r"[^a-z0-9]+", "", s.lower())  # noqa: E731
    return difflib.SequenceMatcher(None, norm(a), norm(b)).ratio()


def test_live_typed_work_is_kept_without_storing_keystrokes(xdisplay, xterm, start_capture, capdb,  # noqa: F811
                                                            dbus_session, deskscribe_home: Path, tmp_path: Path,
                                                            ocr) -> None:
    """Typed text not stored (the default): every command typed in a terminal and every line typed in an editor
    is a write() step read from the screen; nothing typed in the excluded window appears anywhere."""
    work = tmp_path / "work"
    work.mkdir()
    shell = f"cd {work} && PS1='root@box:~/work# ' exec bash --norc --noprofile -i"
    term = xterm("typed work", shell, "100x30+0+0")
    vault = xterm("my password vault", "cat", "60x10+700+500", wm_class="Vault")
    focus(term)
    proc = start_capture("--duration", "600")
    poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title = 'typed work'"),
         what="a terminal frame", timeout=SLOW)
    for n, command in enumerate(COMMANDS, 1):
        xdo("type", "--delay", "40", command)
        xdo("key", "Return")
        poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'keys'"
                               " AND json_extract(details, '$.ended_by') = 'enter' AND after_frame_id IS NOT NULL") >= n,
             what=f"command {n} stored with its after frame", timeout=SLOW)
    focus(vault)
    poll(lambda: "excluded window" in capdb.state().get("message", ""), what="the excluded window", timeout=SLOW)
    xdo("type", "--delay", "20", CANARY)
    pad, wid = open_mousepad(tmp_path / "meeting.txt", tmp_path, dbus_session)
    try:
        focus(wid)
        poll(lambda: capdb.one("SELECT count(*) FROM frames WHERE window_title LIKE '%meeting.txt%'"),
             what="a mousepad frame", timeout=SLOW)
        before = capdb.one("SELECT count(*) FROM events WHERE kind = 'keys'")
        for n, line in enumerate(LINES, 1):
            xdo("type", "--delay", "40", line)
            xdo("key", "Return")
            poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'keys' AND after_frame_id IS NOT NULL")
                 >= before + n, what=f"line {n} stored with its after frame", timeout=SLOW)
        assert proc.stop(signal.SIGTERM) == 0, proc.stderr()
    finally:
        stop_process(pad)
    assert not capdb.rows("SELECT 1 FROM events WHERE kind = 'text'")  # no keystroke text was stored

    hf, jl, steps = _review_and_export(deskscribe_home, tmp_path, ocr, "Write the report notes and meeting notes")
    writes = [r for r in steps if r["action_type"] == "write"]
    assert all(r["text_source"] == "screen" for r in writes), writes
    typed = [json.loads(r["action"][len("write(text="):-1]) for r in writes]
    for truth in COMMANDS + LINES:
        assert max((_similar(truth, t) for t in typed), default=0) >= 0.9, (truth, typed)
    for out in (hf, jl):
        for p in out.rglob("*"):
            if p.is_file():
                data = p.read_bytes()
                assert CANARY.encode() not in data and b"password vault" not in data, p

    # the same live capture described by a vision model: a tiny random-weight Qwen3-VL (GGUF + mmproj written
    # by tests/models/tiny_qwen3vl.py) through llama.cpp's generic multimodal handler, as a person's Qwen3-VL-2B
    # would run; its garbage answers are rejected and the steps' text stands, with the provenance saying so
    from deskscribe import config
    from deskscribe.models.describe import run_batch
    from tests.models import tiny_qwen3vl

    (tmp_path / "qwen3vl").mkdir()
    model, mmproj = tiny_qwen3vl.build(tmp_path / "qwen3vl")
    write_config(deskscribe_home, {"models": {"vlm_model": str(model), "vlm_mmproj": str(mmproj),
                                              "summarizer": str(model), "vlm_image_max_tokens": 256}})
    db = open_db(deskscribe_home / "deskscribe.db")
    try:
        assert not run_batch(db, config.load()).failed
        for (eid,) in db.conn.execute("SELECT id FROM episodes WHERE id IN (SELECT episode_id FROM frames)"):
            latest = D.description_history(db, eid)[-1]  # a new draft: the person's accepted one stays current
            assert latest["model"] == model.name and latest["task"]["by"] == "steps" and latest["review_reason"]
            assert all(r["author"] == "steps" for r in latest["step_rows"])
            reflected = [r["evidence"]["reflection"] for r in latest["step_rows"] if "reflection" in r["evidence"]]
            assert all(r["by"] == f"model:{model.name}" and r["rejected"] for r in reflected)
    finally:
        db.conn.close()
