"""The first start of the tray on a fresh data folder, on a real X desktop (Xvfb + openbox + trayer, xcb):
the first-run dialog appears before anything is captured, a screenshot of it is taken (set
DESKSCRIBE_SCREENSHOTS=folder to keep it: packaging/screenshots/first-run.png comes from here), the person
chooses "Stay offline" with the keyboard, and the tray starts with the choice saved."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from .test_tray_x11 import trayer, xdo  # noqa: F401  (trayer is a fixture)

pytestmark = pytest.mark.x11


def window_box(win: str) -> dict[str, int]:
    """The window's absolute box from xwininfo (xdotool's position is off by the frame under openbox)."""
    out = subprocess.run(["xwininfo", "-id", win], capture_output=True, text=True).stdout
    values = {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in out.splitlines()) if v}
    return {"left": int(values["Absolute upper-left X"]), "top": int(values["Absolute upper-left Y"]),
            "width": int(values["Width"]), "height": int(values["Height"])}


def grab(box: dict[str, int]) -> Image.Image:
    import mss

    with mss.MSS() as sct:
        shot = sct.grab(box)
    return Image.frombytes("RGB", shot.size, shot.rgb)


def test_first_start_shows_the_dialog_then_the_tray(trayer, deskscribe_home, tmp_path, wait_until):  # noqa: F811
    log = tmp_path / "tray-stdout.log"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "deskscribe", "-v", "tray"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        win = wait_until(lambda: xdo("search", "--onlyvisible", "--name", "^Welcome to deskscribe$"), timeout=60,
                         what="the first-run dialog")[0]
        assert "first-run dialog shown" in log.read_text()
        assert not (deskscribe_home / "deskscribe.db").exists()  # nothing captured before the person chose
        box = window_box(win)
        # drawn once it holds text: many distinct colours, not a blank frame
        def drawn() -> Image.Image | None:
            im = grab(box)
            colours = im.getcolors(maxcolors=1 << 16)
            return im if colours is None or len(colours) > 20 else None

        image = wait_until(drawn, timeout=20, what="the dialog to be drawn")
        assert image.width >= 600 and image.height >= 300
        image.save(tmp_path / "first-run.png")
        if os.environ.get("DESKSCRIBE_SCREENSHOTS"):
            shutil.copy(tmp_path / "first-run.png", os.environ["DESKSCRIBE_SCREENSHOTS"])

        xdo("windowactivate", "--sync", win)
        xdo("key", "--window", win, "alt+s")  # &Stay offline and start
        wait_until(lambda: "tray icon shown" in log.read_text() or proc.poll() is not None, timeout=60,
                   what="the tray icon after the dialog")
        assert proc.poll() is None, log.read_text()
        marker = json.loads((deskscribe_home / "first-run.json").read_text())
        assert marker["choice"] == "offline" and (deskscribe_home / "config.toml").exists()
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
