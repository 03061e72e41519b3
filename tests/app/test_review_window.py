"""The review window driven like a person would: keys and clicks, then the database is checked."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from deskscribe.app.review_window import ReviewWindow
from deskscribe.storage import review

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def open_window(qtbot, db):
    windows = []

    def make(page_size: int = review.PAGE_SIZE) -> ReviewWindow:
        w = ReviewWindow(db, page_size=page_size)
        qtbot.addWidget(w)
        with qtbot.waitExposed(w):
            w.show()
        with qtbot.waitActive(w):  # window shortcuts and focus need the active window
            w.activateWindow()
        windows.append(w)
        return w

    yield make
    for w in windows:  # never leave a "save your edit?" question blocking the teardown
        w.editor.dirty = False
        w.loader.shutdown()


def answer_next_dialog(qtbot, button: QMessageBox.StandardButton) -> list[str]:
    """Click ``button`` in the next modal message box (the real dialog, answered as a person would)."""
    seen: list[str] = []
    deadline = time.monotonic() + 10

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)
        elif time.monotonic() < deadline:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return seen


def key(qtbot, widget, k, mod=Qt.KeyboardModifier.NoModifier) -> None:
    """Press a key with ``widget`` focused in its active window (as after a click into it)."""
    if not widget.window().isActiveWindow():  # e.g. just after a dialog closed
        widget.window().activateWindow()
        qtbot.waitUntil(widget.window().isActiveWindow)
    widget.setFocus()
    qtbot.keyClick(widget, k, mod)


def test_edit_accept_reject_revert_through_the_widgets(qtbot, open_window, imported, db):
    w = open_window()
    assert w.current_episode() == imported
    assert w.editor.summary.toPlainText().startswith("Opened a picture in GIMP")

    key(qtbot, w.table, Qt.Key.Key_E)  # E: edit
    assert w.editor.summary.hasFocus()
    w.editor.summary.selectAll()
    qtbot.keyClicks(w.editor.summary, "Raised the contrast of a photo to 70 in GIMP")
    w.editor.steps.selectAll()
    for i, line in enumerate(["Open Colors > Brightness-Contrast", "Set Contrast to 70", "Click OK"]):
        if i:
            qtbot.keyClick(w.editor.steps, Qt.Key.Key_Return)
        qtbot.keyClicks(w.editor.steps, line)
    assert w.editor.dirty
    qtbot.keyClick(w.editor.steps, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Ctrl+S: save

    cur = review.current_description(db, imported)
    assert (cur["revision"], cur["author"], cur["parent_revision"]) == (2, "person", 1)
    assert cur["summary"] == "Raised the contrast of a photo to 70 in GIMP"
    assert cur["steps"] == ["Open Colors > Brightness-Contrast", "Set Contrast to 70", "Click OK"]
    assert review.get_episode(db, imported)["status"] == "edited"
    labels = [w.editor.history.item(i).text() for i in range(w.editor.history.count())]
    assert labels[0].startswith("r2 · you (from r1)") and labels[0].endswith("current")
    assert labels[1].startswith("r1 · SmolLM2-135M-Instruct.Q4_1.gguf")

    # Ctrl+Return accepts even while typing in the editor.
    qtbot.keyClick(w.editor.summary, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert review.get_episode(db, imported)["status"] == "accepted"
    assert w.model.data(w.model.index(0, 4)) == "accepted"

    key(qtbot, w.table, Qt.Key.Key_R)  # R: reject
    assert review.get_episode(db, imported)["status"] == "rejected"

    # Revert to the model's first draft: pick r1 in the history and click the button.
    w.editor.history.setCurrentRow(1)
    qtbot.mouseClick(w.editor.revert_btn, Qt.MouseButton.LeftButton)
    history = review.description_history(db, imported)
    assert [(h["revision"], h["author"], h["parent_revision"], h["is_current"]) for h in history] == [
        (1, "model", None, False), (2, "person", 1, False), (3, "person", 1, True)]
    assert history[2]["summary"] == history[0]["summary"] and history[2]["steps"] == history[0]["steps"]
    assert review.get_episode(db, imported)["status"] == "edited"
    assert w.editor.summary.toPlainText() == history[0]["summary"]

    key(qtbot, w.table, Qt.Key.Key_A)  # A: accept
    assert review.get_episode(db, imported)["status"] == "accepted"
    assert len(review.description_history(db, imported)) == 3  # accepting unchanged text adds no revision


def test_a_flagged_draft_shows_its_reason_and_its_instruction(qtbot, open_window, imported, db):
    review.add_description(db, imported, "Clicked 'Colors' in GIMP.", ["Clicked 'Colors' in GIMP"], author="model",
                           instruction="Click 'Colors' in GIMP.",
                           review_reason="the model's answer names what the episode does not show: name 'Lisbon'")
    w = open_window()
    assert w.current_episode() == imported
    assert w.editor.flag_label.isVisible()
    assert w.editor.flag_label.text() == (
        "Flagged for review: the model's answer names what the episode does not show: name 'Lisbon'")
    assert w.editor.instruction_label.text() == "As a request: Click 'Colors' in GIMP."
    w.editor.summary.selectAll()
    qtbot.keyClicks(w.editor.summary, "Opened the Colors menu in GIMP")
    w.editor.save()
    assert not w.editor.flag_label.isVisible()  # the person's revision is not a flagged draft


def test_typing_letters_in_the_editor_does_not_trigger_shortcuts(qtbot, open_window, imported, db):
    w = open_window()
    key(qtbot, w.table, Qt.Key.Key_E)
    qtbot.keyClicks(w.editor.summary, " jar")  # j = next episode, a = accept, r = reject elsewhere
    assert w.editor.summary.toPlainText().endswith(" jar")
    assert review.get_episode(db, imported)["status"] == "unreviewed"
    answer_next_dialog(qtbot, QMessageBox.StandardButton.Discard)
    w.apply_filter()  # leaving the episode asks about the unsaved edit; Discard drops it
    assert len(review.description_history(db, imported)) == 1


def test_keyboard_navigation_between_episodes(qtbot, open_window, synthetic):
    w = open_window(page_size=5)
    assert w.current_episode() == 30
    for expected, k, mod in [
        (29, Qt.Key.Key_J, Qt.KeyboardModifier.NoModifier),
        (28, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier),
        (29, Qt.Key.Key_K, Qt.KeyboardModifier.NoModifier),
        (30, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier),
        (30, Qt.Key.Key_K, Qt.KeyboardModifier.NoModifier),  # already at the top
    ]:
        key(qtbot, w.table, k, mod)
        assert w.current_episode() == expected
    for _ in range(7):  # past the first page of 5: the model pages in more
        qtbot.keyClick(w.table, Qt.Key.Key_J)
    assert w.current_episode() == 23 and w.model.rowCount() >= 10
    assert w.editor.episode_id == 23 and len(w.frames.frames) == 3

    key(qtbot, w.table, Qt.Key.Key_Slash)  # "/" jumps to the search box
    assert w.search.hasFocus()
    qtbot.keyClicks(w.search, "window 12")
    qtbot.keyClick(w.search, Qt.Key.Key_Return)
    assert [w.model.episode_id(r) for r in range(w.model.rowCount())] == [12]
    assert w.current_episode() == 12 and w.count_label.text() == "1 episode"
    key(qtbot, w.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.search.hasFocus()


def test_filters_in_the_window(qtbot, open_window, synthetic):
    w = open_window()
    w.status_box.setCurrentIndex(w.status_box.findData("rejected"))
    w.apply_filter()
    statuses = {w.model.data(w.model.index(r, 4)) for r in range(w.model.rowCount())}
    assert statuses == {"rejected"} and w.count_label.text() == f"{w.model.rowCount()} episodes"
    w.app_box.setCurrentIndex(w.app_box.findData("app2"))
    w.apply_filter()
    assert all(w.model.rows[r]["apps"] == ["app2"] for r in range(w.model.rowCount()))
    w.status_box.setCurrentIndex(0)
    w.app_box.setCurrentIndex(0)
    w.day_box.setCurrentIndex(1)  # the newest day with episodes
    day = w.day_box.currentData()
    w.apply_filter()
    assert w.model.rowCount() == dict(review.days(synthetic))[day] > 0
    assert {dt.date.fromtimestamp(row["start_ts"]) for row in w.model.rows} == {day}


def test_delete_frame_and_episode_remove_image_bytes(qtbot, open_window, imported, db):
    w = open_window()
    qtbot.waitUntil(lambda: w.frames.thumbnails_loaded() == 7)
    w.frames.strip.setCurrentRow(2)
    frame = w.frames.current_frame()
    seen = answer_next_dialog(qtbot, QMessageBox.StandardButton.Yes)
    key(qtbot, w.table, Qt.Key.Key_Delete)
    assert seen and "cannot be undone" in seen[0]
    assert [f["id"] for f in review.episode_frames(db, imported)].count(frame["id"]) == 0
    assert review.thumbnail_bytes(db, frame["image_hash"]) is None
    assert w.frames.strip.count() == 6 and w.model.data(w.model.index(0, 2)) == "6"

    answer_next_dialog(qtbot, QMessageBox.StandardButton.No)  # a person can change their mind
    key(qtbot, w.table, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert review.get_episode(db, imported) is not None

    answer_next_dialog(qtbot, QMessageBox.StandardButton.Yes)
    key(qtbot, w.table, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert review.get_episode(db, imported) is None
    assert db.conn.execute("SELECT count(*) FROM images").fetchone()[0] == 0
    assert w.model.rowCount() == 0 and w.current_episode() is None


def test_screenshot_of_a_real_episode(qtbot, open_window, imported, db):
    """Saves test-artifacts/review-window.png: the GIMP episode with thumbnails, a frame and its input."""
    from deskscribe.storage import descriptions

    frame = review.filmstrip(db, imported)[5]
    run = descriptions.model_run_id(db, descriptions.ModelRun("caption", "ocr", "rapidocr", None, "v1", {}))
    # a caption written by this test (the captioners have tests of their own)
    descriptions.put_caption(db, frame["image_hash"], run, "GIMP: Brightness-Contrast dialog over a photo of an apple")
    w = open_window()
    w.resize(1500, 900)
    qtbot.waitUntil(lambda: w.frames.thumbnails_loaded() == 7)
    w.frames.strip.setCurrentRow(5)  # the frame with a click, Ctrl+A and typing
    qtbot.waitUntil(w.frames.view.has_image)
    details = w.frames.details.toPlainText()
    assert "ctrl+a" in details and "left click" in details and "Brightness-Contrast dialog" in details
    out = REPO / "test-artifacts" / "review-window.png"
    out.parent.mkdir(exist_ok=True)
    assert w.grab().save(str(out))
    assert out.stat().st_size > 50_000


def test_large_database_shows_its_first_page(qtbot, open_window, big_db):
    w = open_window()
    assert w.model.rowCount() == review.PAGE_SIZE and w.model.canFetchMore()
    assert [w.model.episode_id(r) for r in range(3)] == [10_000, 9_999, 9_998]
    assert w.model.data(w.model.index(0, 2)) == "10" and w.model.data(w.model.index(0, 5)) == "synthetic episode 10000"
    assert w.count_label.text() == "10000 episodes"
    assert w.current_episode() == 10_000 and len(w.frames.frames) == 10
