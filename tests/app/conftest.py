"""Fixtures for the app tests: offscreen Qt for widget tests, a real imported episode, a 100k-frame database.

Widget tests run on Qt's offscreen platform (chosen through ``qapp_args`` so no environment variable leaks
into other tests or subprocesses); tests that need a real X display run the app in a subprocess on xcb.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from ..conftest import wait_for

if TYPE_CHECKING:
    from deskscribe.app.review_window import ReviewWindow

EPISODE = "048c56fa99ef42c0976064e7b5598962"


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    return ["deskscribe-tests", "-platform", "offscreen"]


@pytest.fixture
def wait_until() -> Callable[..., object]:
    """Poll an external condition (a subprocess, a file, the X server) with a timeout; no fixed sleeps."""

    return wait_for


@pytest.fixture
def imported_only(db, screenagent: Path) -> int:
    """A real ScreenAgent episode (GIMP, 7 frames, with its recorded clicks and keys), not described yet."""
    from deskscribe.capture.importer import import_folder

    res = import_folder(db, screenagent / EPISODE)
    assert res.episode_id is not None
    return res.episode_id


@pytest.fixture
def imported(db, screenagent: Path) -> int:
    """A real ScreenAgent episode (GIMP, 7 frames, with its recorded clicks and keys) with a model draft."""
    from deskscribe.capture.importer import import_folder
    from deskscribe.storage import descriptions

    res = import_folder(db, screenagent / EPISODE)
    assert res.episode_id is not None
    run = descriptions.model_run_id(db, descriptions.ModelRun(
        "describe", "llama_cpp", "SmolLM2-135M-Instruct.Q4_1.gguf", None, "v1", {}))
    descriptions.add_description(
        db, res.episode_id, "Opened a picture in GIMP and raised its contrast to 70.",
        ["Open the Colors menu", "Choose Brightness-Contrast", "Type 70 in Contrast and press OK"],
        author="model", model_run_id=run)
    return res.episode_id


@pytest.fixture
def synthetic(db):
    """A small synthetic database: 30 episodes of 3 frames (tiny shared image); every 10th has a description."""
    from synthetic import fill_synthetic

    fill_synthetic(db, episodes=30, frames_per_episode=3, image=tiny_png())
    return db


def tiny_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (40, 110, 180)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def big_db(db):
    """100k frames in 10k episodes, bulk-inserted into the real SQLite file (one shared tiny image)."""
    from synthetic import fill_synthetic

    fill_synthetic(db, episodes=10_000, frames_per_episode=10, image=tiny_png())
    return db


@contextlib.contextmanager
def review_window(qtbot, db, active: bool = True) -> Iterator[ReviewWindow]:  # type: ignore[no-untyped-def]
    """The review window shown (and, with ``active``, active) on ``db``; closed with no unsaved edit left."""
    from deskscribe.app.review_window import ReviewWindow

    w = ReviewWindow(db)
    qtbot.addWidget(w)
    with qtbot.waitExposed(w):
        w.show()
    if active:
        with qtbot.waitActive(w):
            w.activateWindow()
    try:
        yield w
    finally:
        w.editor.dirty = False
        w.loader.shutdown()
