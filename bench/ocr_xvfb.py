"""Scripted desktop sessions on Xvfb for the OCR benchmark: xterm and mousepad driven by xdotool.

Each action is followed by a grab once the screen has changed and then held still (polled, no fixed sleeps),
encoded as JPEG q80 like capture's default, and decoded again: the frames are what describe would read.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

XTERM_COMMANDS = ["mkdir -p demo && cd demo", "echo 'quarterly report draft' > notes.txt", "ls -la",
                  "cat notes.txt", "echo Budget review moved to Friday", "wc -c notes.txt",
                  "ls -la /usr/share | head -8",
                  "clear", "echo Invite Dana and Luis"]
EDITOR_LINES = ["Budget review moved to Friday 10am", "Invite Dana and Luis", "Agenda: quarterly report draft",
                "Book a room for the team lunch", "Send the updated figures before noon"]


def _wait(pred: Callable[[], object], timeout: float, what: str) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value is not None and value is not False and (not hasattr(value, "__len__") or len(value)):
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def _free_display() -> str:
    for n in range(120, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    raise RuntimeError("no free X display")


@contextmanager
def desktop(size: str = "1280x800") -> Iterator[dict[str, str]]:
    """Xvfb (1280×800 unless told) + openbox, with GTK's cursor blink off (a blinking caret never lets a screen
    settle)."""
    display = _free_display()
    tmp = tempfile.mkdtemp(prefix="ocr-bench-")
    (Path(tmp) / "gtk-3.0").mkdir()
    (Path(tmp) / "gtk-3.0" / "settings.ini").write_text("[Settings]\ngtk-cursor-blink = false\n")
    env = {**os.environ, "DISPLAY": display, "XDG_CONFIG_HOME": tmp, "HOME": tmp, "NO_AT_BRIDGE": "1"}
    procs = [subprocess.Popen(["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait(lambda: subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0, 20,
              "Xvfb")
        procs.append(subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        yield env
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=10)


def _grab(display: str) -> np.ndarray:
    import mss

    with mss.MSS(display=display) as sct:
        shot = sct.grab(sct.monitors[1])
    img = Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _settled(display: str, before: np.ndarray | None, timeout: float = 60) -> np.ndarray:
    """The screen once it differs from ``before`` and two grabs 0.3 s apart are the same."""
    def still() -> np.ndarray | None:
        a = _grab(display)
        if before is not None and np.abs(a.astype(np.int16) - before).mean() < 0.05:
            return None
        time.sleep(0.3)
        b = _grab(display)
        return b if np.abs(a.astype(np.int16) - b).max() < 40 else None
    return _wait(still, timeout, "the screen to settle")  # type: ignore[return-value]


def _xdo(env: dict[str, str], *args: str) -> None:
    subprocess.run(["xdotool", *args], env=env, check=True)


def _session(env: dict[str, str], cmd: list[str], title: str, steps: list[Callable[[], None]]) -> list[np.ndarray]:
    app = subprocess.Popen(cmd, env=env, cwd=env["HOME"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: subprocess.run(["xdotool", "search", "--name", title], env=env, capture_output=True)
              .stdout.strip(), 90, title)
        frames = [_settled(env["DISPLAY"], None)]
        for step in steps:
            step()
            frames.append(_settled(env["DISPLAY"], frames[-1]))
        return frames
    finally:
        app.terminate()
        app.wait(timeout=10)


def sessions() -> list[list[np.ndarray]]:
    """Two scripted sessions (xterm commands; mousepad typing and its save dialog) as lists of frames."""
    with desktop() as env:
        def typed(text: str) -> Callable[[], None]:
            return lambda: (_xdo(env, "type", "--delay", "5", text), _xdo(env, "key", "Return"))
        term = _session(env, ["xterm", "-fa", "DejaVu Sans Mono", "-fs", "11", "-geometry", "120x40+0+0",
                              "-T", "benchterm"], "benchterm", [typed(c) for c in XTERM_COMMANDS])
        editor_steps = [typed(line) for line in EDITOR_LINES] + [lambda: _xdo(env, "key", "ctrl+s")]
        editor = _session(env, ["mousepad", "--disable-server"], "Mousepad", editor_steps)
    return [term, editor]


def known_frames() -> list[tuple[str, int, int, list[str]]]:
    """(name, session, frame, lines) of the frames of :func:`sessions` whose text is known: the editor after each
    typed line (its menu bar and the lines so far) and the terminal after its seventh command (commands 2-7 and
    the two outputs that are text; the first command's first key can be lost while the window takes focus)."""
    out = [(f"mousepad-{k}", 1, k, ["File Edit Search View Document Help", *EDITOR_LINES[:k]])
           for k in range(1, len(EDITOR_LINES) + 1)]
    out.append(("xterm-7", 0, 7, [*XTERM_COMMANDS[1:7], "quarterly report draft", "Budget review moved to Friday"]))
    return out


def known_text(sessions: list[list[np.ndarray]]) -> list[tuple[str, Image.Image, list[str]]]:
    """The frames of :func:`known_frames` as images, with their lines."""
    return [(name, Image.fromarray(sessions[s][i]), lines) for name, s, i, lines in known_frames()]
