"""A scripted session on a real desktop: commands in xterm, clicks and Ctrl+S in mousepad (GTK, on the AT-SPI
bus), keys in xcalc (publishes nothing); `deskscribe capture` as a subprocess, xdotool input, RapidOCR.

The interval tick is set long (10 s) so that only the frames taken around actions can carry the evidence.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import stop_process
from .conftest import focus, poll, window_id, write_config, xdo

pytestmark = [pytest.mark.x11, pytest.mark.model]
COMMANDS = ["echo first-step", "python3 -c 'print(12*7)'", "cat notes.txt"]


@pytest.fixture
def a11y_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A D-Bus session bus (at-spi2-core starts the accessibility bus on it on demand) and a private home,
    so GTK apps publish their widgets and start without leftovers of earlier runs."""
    for tool in ("dbus-daemon", "mousepad", "xcalc"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run packaging/install.sh --dev")
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    home = tmp_path / "user"
    for sub in ("config", "data", "cache"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("AT_SPI_BUS_ADDRESS", raising=False)
    try:
        yield address
    finally:
        stop_process(bus)
        bus.stdout.close()


@pytest.fixture
def apps(xdisplay: str, a11y_session: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("quarterly review notes\n")
    (work / "draft.txt").write_text("")
    procs = [
        subprocess.Popen(["xterm", "-class", "XTerm", "-T", "shell", "-fa", "DejaVu Sans Mono", "-fs", "14",
                          "-geometry", "48x8+0+0", "-e", "sh", "-c", f"cd '{work}' && PS1='$ ' exec sh -i"]),
        subprocess.Popen(["mousepad", "--disable-server", str(work / "draft.txt")], cwd=work),
        subprocess.Popen(["xcalc", "-geometry", "+900+420"]),
    ]
    try:
        ids = {"shell": poll(lambda: window_id("shell"), what="xterm"),
               "editor": poll(lambda: visible("Mousepad"), what="mousepad"),
               "calc": poll(lambda: window_id("Calculator"), what="xcalc"),
               "shell_pid": str(poll(lambda: _children(procs[0].pid), what="the xterm's shell")[0])}
        xdo("windowmove", "--sync", ids["editor"], "600", "0")
        xdo("windowsize", "--sync", ids["editor"], "600", "380")
        yield ids
    finally:
        for proc in procs:
            stop_process(proc)


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []


def shell_waits_for_input(pid: int) -> bool:
    """The shell ran its command to the end and sits in read() on the terminal, its prompt shown.

    A person types the next command once the last one's output is on screen; typing earlier interleaves the
    echo with that output (under load, python3's "84" landed in the middle of the next command).
    """
    if _children(pid):
        return False
    try:
        nr = Path(f"/proc/{pid}/syscall").read_text().split()[0]
    except (OSError, IndexError):
        return False
    return nr in ("0", "63")  # read(2) on x86-64 / arm64


def visible(wm_class: str) -> str | None:
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--class", wm_class], capture_output=True, text=True)
    ids = out.stdout.split()
    return ids[0] if out.returncode == 0 and ids else None


def ocr_text(png: bytes, box: tuple[int, int, int, int]) -> str:
    import numpy as np
    from PIL import Image
    from rapidocr_onnxruntime import RapidOCR

    image = Image.open(io.BytesIO(png)).convert("RGB").crop(box)
    result, _ = RapidOCR()(np.array(image))
    return "".join(r[1] for r in result or [])


def squash(text: str) -> str:
    return re.sub(r"[\s'\"]+", "", text)  # RapidOCR drops some spaces and quotes: compare without them


@pytest.mark.timeout(900)  # RapidOCR on a loaded 2-core machine took up to 4.5 s a frame
def test_every_action_has_its_frames_element_and_name(apps, start_capture, capdb, deskscribe_home):
    from click.testing import CliRunner

    from deskscribe.cli import main
    from deskscribe.storage import frames as store
    from deskscribe.storage.db import open_db

    write_config(deskscribe_home, {"capture": {"interval_s": 10.0, "debounce_s": 0.3, "image_format": "png"}})
    focus(apps["shell"])
    proc = start_capture()
    poll(lambda: capdb.frames(), what="the first frame")
    for i, command in enumerate(COMMANDS, 1):
        xdo("type", "--delay", "20", command)
        xdo("key", "Return")
        poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'keys' AND after_frame_id IS NOT NULL"
                               " AND json_extract(details, '$.ended_by') = 'enter'") == i, what=f"command {i}")
        poll(lambda: shell_waits_for_input(int(apps["shell_pid"])), what=f"the prompt after command {i}")

    focus(apps["editor"])
    xdo("mousemove", "--window", apps["editor"], "18", "12", "click", "1")  # the File menu
    poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'click'") == 1, what="the menu click")
    xdo("key", "Escape")
    xdo("mousemove", "--window", apps["editor"], "300", "200", "click", "1")  # the text
    xdo("type", "--delay", "20", "first line")
    xdo("key", "Return")
    xdo("type", "--delay", "20", "second line")
    xdo("key", "ctrl+s")
    poll(lambda: "second line" in (Path(apps_dir(capdb)) / "draft.txt").read_text(), what="mousepad saved")

    focus(apps["calc"])
    xdo("mousemove", "--window", apps["calc"], "30", "80", "click", "1")
    xdo("type", "--delay", "30", "12*7=")
    focus(apps["shell"])
    poll(lambda: capdb.one("SELECT count(*) FROM events WHERE kind = 'app_switch' AND after_frame_id IS NOT NULL"
                           " AND json_extract(details, '$.to_app') = 'XTerm'"), what="the switch back")
    assert proc.stop(signal.SIGTERM) == 0, proc.stderr()

    db = open_db(capdb.path, migrate=False)
    try:
        events = [dict(r) | {"details": json.loads(r["details"])} for r in db.query(
            "SELECT e.*, f.app AS before_app FROM events e LEFT JOIN frames f ON f.id = e.before_frame_id"
            " ORDER BY e.ts, e.id")]
        frames = {r["id"]: r for r in db.query("SELECT id, app, trigger, image_hash, ts FROM frames")}

        # every command is readable in the frame stored when its Enter came
        enters = [e for e in events if e["kind"] == "keys" and e["details"].get("ended_by") == "enter"
                  and e["before_app"] == "XTerm"]
        assert len(enters) >= len(COMMANDS)
        shell_text = [squash(ocr_text(store.image_bytes(db, frames[e["after_frame_id"]]["image_hash"])[0],
                                      (0, 0, 600, 220))) for e in enters[:3]]
        for command, text in zip(COMMANDS, shell_text):
            assert squash(command) in text, (command, text)
        assert {frames[e["after_frame_id"]]["trigger"] for e in enters[:3]} == {"typing"}

        # every click in the GTK app has its element and both frames; xcalc's say it exposes nothing
        clicks = [e for e in events if e["kind"] == "click"]
        gtk = [c for c in clicks if c["before_app"] == "Mousepad"]
        assert [(c["details"]["element"]["role"], c["details"]["element"]["name"]) for c in gtk][:2] == [
            ("menu", "File"), ("text", "")]
        assert all(c["details"]["element"]["app"] == "mousepad" for c in gtk)
        assert all(c["before_frame_id"] and c["after_frame_id"] for c in gtk)
        calc = [c for c in clicks if c["before_app"] == "XCalc"]
        assert calc and all("element" in c["details"] and c["details"]["element"] is None for c in calc)

        # every action has a before frame; shortcuts and app switches carry their keys and both apps
        assert all(e["before_frame_id"] for e in events), [e for e in events if not e["before_frame_id"]]
        assert {"keys": "ctrl+s"} in [e["details"] for e in events if e["kind"] == "shortcut"]
        switches = [(e["details"].get("from_app"), e["details"].get("to_app")) for e in events
                    if e["kind"] == "app_switch"]
        assert [("XTerm", "Mousepad"), ("Mousepad", "XCalc"), ("XCalc", "XTerm")] == switches

        # … and reach `deskscribe show` and the description's facts
        runner = CliRunner()
        episodes = [r[0] for r in db.conn.execute("SELECT id FROM episodes ORDER BY id")]
        shown = "".join(runner.invoke(main, ["show", str(ep)]).output for ep in episodes)
        assert '"keys": "ctrl+s"' in shown and '"from_app": "XTerm", "title": "' in shown
        assert '"to_app": "Mousepad"' in shown
    finally:
        db.conn.close()
    # … and describe's steps (the one step writer, one step per action) name them
    from deskscribe import config
    from deskscribe.models.describe import run_batch
    from deskscribe.storage import descriptions

    rw = open_db(capdb.path)
    try:
        assert not run_batch(rw, config.load(), compose="evidence").failed
        by_episode = {ep: (descriptions.current_description(rw, ep) or {"steps": []})["steps"] for ep in episodes}
    finally:
        rw.conn.close()
    steps = [s for ep in episodes for s in by_episode[ep]]
    assert any("Ctrl+S" in s for s in steps), steps
    assert any(s.startswith("Clicked the 'File' menu in Mousepad") for s in steps), steps
    assert any(s.startswith("Switched to Mousepad") for s in steps) and any(s.startswith("Switched to XCalc")
                                                                            for s in steps), steps

    # … and export: a person's description per episode, then the JSONL export carries every action
    rw = open_db(capdb.path)
    try:
        for ep in episodes:  # distinct texts: export drops episodes whose description repeats another's
            descriptions.add_description(rw, ep, f"Episode {ep}: " + "; ".join(by_episode[ep]), by_episode[ep],
                                         author="person")
    finally:
        rw.conn.close()
    out = deskscribe_home.parent / "export"
    result = runner.invoke(main, ["export", "jsonl", str(out), "--progress", "none"])
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for f in sorted(out.rglob("*.jsonl")) for line in f.read_text().splitlines()]
    actions = [e for ex in exported for e in ex.get("events", [])]
    assert {"keys": "ctrl+s"} in [e["details"] for e in actions if e["kind"] == "shortcut"]
    assert ("XTerm", "Mousepad") in [(e["details"].get("from_app"), e["details"].get("to_app")) for e in actions
                                     if e["kind"] == "app_switch"]
    assert ("menu", "File") in [(e["details"]["element"]["role"], e["details"]["element"]["name"]) for e in actions
                                if e["kind"] == "click" and e["details"].get("element")]


def apps_dir(capdb) -> str:  # the fixture's work folder, next to the data folder
    return str(Path(capdb.path).parent.parent / "work")
