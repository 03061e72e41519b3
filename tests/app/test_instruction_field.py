"""The review window's instruction field: typed like a person would, stored with its own revision history."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from deskscribe.storage import review

from .conftest import review_window

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, db, imported):
    with review_window(qtbot, db) as w:
        yield w


def test_instruction_edits_are_revisions_of_their_own(qtbot, window, imported, db):
    ed = window.editor
    assert window.current_episode() == imported
    assert ed.instruction.toPlainText() == "" and "exports use the summary" in ed.instruction.placeholderText()
    descriptions_before = review.description_history(db, imported)

    ed.instruction.setFocus()
    qtbot.keyClicks(ed.instruction, "Raise the contrast of the photo to 70")
    assert ed.dirty and "unsaved edits" in ed.status_label.text()
    qtbot.mouseClick(ed.save_btn, Qt.MouseButton.LeftButton)
    assert review.current_instruction(db, imported) == "Raise the contrast of the photo to 70"
    # the description and its review state are untouched: an instruction edit is not a correction
    assert review.description_history(db, imported) == descriptions_before
    assert review.get_episode(db, imported)["status"] == "unreviewed"

    ed.instruction.selectAll()
    qtbot.keyClicks(ed.instruction, "Set the contrast to 70 in GIMP")
    qtbot.keyClick(ed.instruction, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # accept saves it
    assert review.get_episode(db, imported)["status"] == "accepted"
    hist = review.instruction_history(db, imported)
    assert [(h["revision"], h["parent_revision"], h["is_current"], h["text"]) for h in hist] == [
        (1, None, False, "Raise the contrast of the photo to 70"), (2, 1, True, "Set the contrast to 70 in GIMP")]
    labels = [ed.instruction_history.item(i).text() for i in range(ed.instruction_history.count())]
    assert labels[0].startswith("r2 · you") and "current" in labels[0] and labels[1].startswith("r1 · you")

    # double-clicking an old revision makes it the instruction again (as a new revision)
    item = ed.instruction_history.item(1)
    rect = ed.instruction_history.visualItemRect(item)
    qtbot.mouseClick(ed.instruction_history.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(ed.instruction_history.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert review.current_instruction(db, imported) == "Raise the contrast of the photo to 70"
    assert ed.instruction.toPlainText() == "Raise the contrast of the photo to 70"
    assert len(review.instruction_history(db, imported)) == 3 and not ed.dirty
