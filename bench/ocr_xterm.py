"""Live sessions with known text on a 1920×1080 Xvfb: xterm with its default font, and mousepad's menus and dialog.

The xterm is started as a fresh desktop starts it — no ``-fa``/``-fs``, so the core bitmap font ``fixed``
(6×13) — running ``script`` around bash: the commands are typed with xdotool, and the known text of each frame
is what the shell printed, read back from script's log (control sequences removed, the last screenful of
lines). The mousepad session opens the File menu and the Save As dialog (for change-only OCR on menus and
dialogs; its known text is only the lines typed into the editor). Frames are grabbed once the screen has
settled, encoded as JPEG q80 like capture's default, and decoded again.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ocr_xvfb import _grab, _wait, _xdo, desktop

SIZE = "1920x1080"
PROMPT = "dana@desk:"
ROWS = 24  # xterm's default geometry is 80×24
COMMANDS = ["mkdir -p demo", "echo 'quarterly report draft' > demo/notes.txt", "cat demo/notes.txt",
            "python3 -c 'print(12*7)'", "cd demo", "echo Budget review moved to Friday 10am", "wc -c notes.txt",
            "ls -la", "printf 'alpha\\nbeta\\ngamma\\n' > words.txt", "grep -n beta words.txt",
            "echo Invite Dana and Luis", "ls"]
EDITOR_LINES = ["Budget review moved to Friday 10am", "Invite Dana and Luis"]
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


def _settled(display: str, before: np.ndarray | None, timeout: float = 60) -> np.ndarray:
    """The screen once it differs from ``before`` in some pixels (a few typed characters are a change: a mean over
    the whole 1920×1080 screen does not see them) and two grabs 0.3 s apart are the same."""
    def still() -> np.ndarray | None:
        a = _grab(display)
        if before is not None and int((np.abs(a.astype(np.int16) - before) > 40).sum()) < 8:
            return None
        time.sleep(0.3)  # polling another process's screen: nothing to block on
        b = _grab(display)
        return b if np.abs(a.astype(np.int16) - b).max() < 40 else None
    return _wait(still, timeout, "the screen to settle")  # type: ignore[return-value]


@dataclass
class Recording:
    name: str
    frames: list[np.ndarray] = field(default_factory=list)
    known: list[list[str]] = field(default_factory=list)  # per frame: the lines known to be on it ([] = none)


def screen_lines(log: str, rows: int = ROWS) -> list[str]:
    """The terminal's lines from script's log: control sequences and carriage returns removed, backspaces
    applied, the last ``rows`` lines (the screenful shown), empty lines left out."""
    text = _CONTROL.sub("", log.split("\n", 1)[1] if log.startswith("Script started") else log).replace("\r", "")
    lines = []
    for raw in text.split("\n"):
        line: list[str] = []
        for ch in raw:
            if ch == "\b":
                if line:
                    line.pop()
            elif ch >= " ":
                line.append(ch)
        lines.append("".join(line))
    while lines and not lines[-1].strip():
        lines.pop()
    return [ln for ln in lines[-rows:] if ln.strip()]


def _text(log: Path) -> str:
    """script's log as written (read_text would turn each lone carriage return into a new line)."""
    return log.read_bytes().decode(errors="replace") if log.exists() else ""


def xterm_session(env: dict[str, str], commands: list[str] = COMMANDS) -> Recording:
    """The commands typed into a default-font xterm; one frame after each has printed and the prompt is back."""
    home = Path(env["HOME"])
    rc, log = home / "bench.bashrc", home / "session.log"
    rc.write_text(f"PS1='{PROMPT}\\w\\$ '\nunset PROMPT_COMMAND\n")
    argv = ["xterm", "-T", "benchxterm", "-e", "script", "-q", "-f", str(log), "-c", f"bash --rcfile {rc} -i"]
    app = subprocess.Popen(argv, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rec = Recording("xterm default font")
    try:
        wins = _wait(lambda: subprocess.run(["xdotool", "search", "--name", "^benchxterm$"], env=env,
                                            capture_output=True, text=True).stdout.split(), 60, "xterm")
        _xdo(env, "windowactivate", "--sync", wins[0])  # type: ignore[index]
        _wait(lambda: PROMPT in _text(log), 30, "the first prompt")
        frame = _settled(env["DISPLAY"], None)
        rec.frames.append(frame)
        rec.known.append(screen_lines(_text(log)))
        for n, cmd in enumerate(commands, start=2):
            _xdo(env, "type", "--delay", "20", cmd)
            _xdo(env, "key", "Return")
            _wait(lambda n=n: _text(log).count(PROMPT) >= n, 30, f"the prompt after {cmd!r}")
            frame = _settled(env["DISPLAY"], rec.frames[-1])
            rec.frames.append(frame)
            rec.known.append(screen_lines(_text(log)))
    finally:
        app.terminate()
        app.wait(timeout=10)
    return rec


def mousepad_session(env: dict[str, str]) -> Recording:
    """Lines typed into mousepad, its File menu opened and closed, the Save As dialog, a name typed, saved."""
    app = subprocess.Popen(["mousepad", "--disable-server"], env=env, cwd=env["HOME"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    rec = Recording("mousepad menus and Save As")
    typed: list[str] = []

    def grab(known: list[str] | None = None) -> None:
        rec.frames.append(_settled(env["DISPLAY"], rec.frames[-1] if rec.frames else None))
        rec.known.append(known or [])

    def line(text: str) -> Callable[[], None]:
        def step() -> None:
            _xdo(env, "type", "--delay", "20", text)
            _xdo(env, "key", "Return")
            typed.append(text)
        return step
    try:
        _wait(lambda: subprocess.run(["xdotool", "search", "--onlyvisible", "--class", "mousepad"], env=env,
                                     capture_output=True).stdout.strip(), 90, "mousepad")
        grab()
        for step in [line(t) for t in EDITOR_LINES]:
            step()
            grab(list(typed))
        for keys in (["alt+f"], ["Escape"], ["ctrl+shift+s"]):
            _xdo(env, "key", *keys)
            grab()
        _xdo(env, "type", "--delay", "20", "meeting.txt")
        grab()
        _xdo(env, "key", "Return")
        grab(list(typed))
    finally:
        app.terminate()
        app.wait(timeout=10)
    return rec


def record(tries: int = 3) -> list[Recording]:
    """Both sessions on one fresh 1920×1080 desktop; a desktop that never settled is recorded again."""
    for n in range(1, tries + 1):
        try:
            with desktop(SIZE) as env:
                env["HOME"] = tempfile.mkdtemp(prefix="ocr-xterm-", dir=env["HOME"])
                return [xterm_session(env), mousepad_session(env)]
        except TimeoutError:
            if n == tries:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")
