"""The step review on a real X desktop (Xvfb + openbox, xcb): `deskscribe review` in a subprocess, keys sent
with xdotool (T for the Steps tab, N next step, W wrong, D redundant, ] trim the end), the database checked,
and a screenshot taken (set DESKSCRIBE_SCREENSHOTS=folder to keep it: packaging/screenshots/step-review.png
comes from here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image, ImageChops

from deskscribe.storage import review
from deskscribe.storage import step_review as sr

from .test_first_run_x11 import grab, window_box
from .test_step_review import EDIT, draft
from .test_tray_x11 import xdo

pytestmark = pytest.mark.x11


def test_step_review_keys_on_a_real_display_and_its_screenshot(xdisplay, imported_only, db, tmp_path, wait_until):
    steps = draft(db, imported_only)
    ids = [s.event_id for s in steps]
    assert ids[1] is not None
    sr.edit_step(db, imported_only, ids[1], EDIT)  # an edit made earlier (the offscreen test types one)
    log = tmp_path / "review.log"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "deskscribe", "review"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        win = wait_until(lambda: xdo("search", "--onlyvisible", "--name", "^deskscribe.*review$"), timeout=60,
                         what="the review window")[0]
        xdo("windowsize", "--sync", win, "1270", "770")
        xdo("windowmove", "--sync", win, "0", "0")
        xdo("windowactivate", "--sync", win)
        for key in ("t", "n", "n", "w", "n", "d", "n", "bracketright"):
            xdo("key", "--delay", "60", key)
        wait_until(lambda: sr.current_trim(db, imported_only) is not None, timeout=30, what="the trim")
        rows = {r["event_id"]: r for r in review.current_description(db, imported_only)["step_rows"]}  # type: ignore[index]
        assert rows[ids[2]]["flag"] == "wrong" and rows[ids[3]]["flag"] == "redundant"
        assert rows[ids[1]]["text"] == EDIT
        assert sr.current_trim(db, imported_only) == sr.Trim(None, ids[4])
        box = window_box(win)
        last: list[Image.Image] = []

        def settled() -> Image.Image | None:  # thumbnails in: two grabs alike, many colours
            im = grab(box)
            same = bool(last) and ImageChops.difference(im, last[-1]).getbbox() is None
            last.append(im)
            colours = im.getcolors(maxcolors=1 << 16)
            return im if same and (colours is None or len(colours) > 2000) else None

        image = wait_until(settled, timeout=30, what="the step review drawn with its thumbnails")
        image.save(tmp_path / "step-review.png")
        if os.environ.get("DESKSCRIBE_SCREENSHOTS"):
            shutil.copy(tmp_path / "step-review.png", os.environ["DESKSCRIBE_SCREENSHOTS"])
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode in (0, -15), log.read_text()
