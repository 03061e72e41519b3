"""The step review: an episode's actions one row each (app/step_model.py), driven from the keyboard.

Every change goes through storage/step_review.py and is a revision with history: a step's text (Enter or F2,
then Enter), a flag (W: wrong, D: redundant; the same key again clears it), a trim (``[``: the episode starts
at this step, ``]``: it ends at this step; on the first / last step the trim on that side is cleared).
The window routes its keys here (app/review_window.py SHORTCUTS) and asks before a change while the
description editor holds unsaved edits (``guard``).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from deskscribe.app.step_model import ACTION, AFTER, BEFORE, MARK, TEXT, THUMB, StepTableModel
from deskscribe.app.thumbs import ImageLoader
from deskscribe.errors import DeskscribeError
from deskscribe.storage import step_review

HELP = ("Enter/F2 edit · W wrong · D redundant · [ start here · ] end here · N/P or ↑/↓ next/previous step"
        " · T back to frames")


class StepReviewPanel(QWidget):
    changed = Signal(int)  # episode id whose steps changed (a new description revision or trim)
    problem = Signal(str)  # one line for the status bar

    def __init__(self, db: sqlite_utils.Database, loader: ImageLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.loader = db, loader
        self.episode_id: int | None = None
        self.guard: Callable[[], bool] = lambda: True
        self._loaded: int | None = None
        self._gen = -1
        self.model = StepTableModel(self)
        self.model.text_edited.connect(self._on_text)
        self.table = QTableView()
        self.table.setObjectName("steps")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setWordWrap(True)
        self.table.setIconSize(THUMB)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 8)
        header = self.table.horizontalHeader()
        for col, width in ((0, 30), (BEFORE, THUMB.width() + 8), (ACTION, 120), (AFTER, THUMB.width() + 8),
                           (MARK, 84)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self._on_activated)  # Enter on a row
        self.title = QLabel()
        self.title.setObjectName("stepsTitle")
        hint = QLabel(HELP)
        hint.setStyleSheet("color: #666;")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint)
        loader.ready.connect(self._on_image)

    # --- loading -------------------------------------------------------------------------------------------
    def show_episode(self, episode_id: int | None) -> None:
        """Remember the episode; it is read when the panel is shown (or now, if it is)."""
        self.episode_id = episode_id
        if self.isVisible():
            self.load()

    def load(self) -> None:
        """Read the episode's steps (kept thumbnails when it is the same episode) and request its frames."""
        eid = self.episode_id
        steps = step_review.review_steps(self.db, eid) if eid is not None else []
        if eid == self._loaded and eid is not None:
            self.model.update_steps(steps)
        else:
            self.model.set_steps(steps)
            self._gen = self.loader.request("step", self.model.frames(), THUMB)
            self._loaded = eid
            if steps:
                self.select(0)
        self._update_title()

    def _update_title(self) -> None:
        steps = self.model.steps
        if self.episode_id is None:
            self.title.setText("No episode selected")
            return
        kept = sum(s.kept for s in steps)
        flags = {f: sum(s.flag == f for s in steps) for f in ("wrong", "redundant")}
        trimmed = f" · trimmed to {kept} of {len(steps)}" if kept < len(steps) else ""
        marks = "".join(f" · {n} {f}" for f, n in flags.items() if n)
        self.title.setText(f"Episode {self.episode_id} · <b>{len(steps)} steps</b>{trimmed}{marks}")

    def showEvent(self, event: object) -> None:  # noqa: N802
        super().showEvent(event)  # type: ignore[arg-type]
        if self.episode_id != self._loaded:
            self.load()

    def _on_image(self, kind: str, generation: int, frame_id: int, image: QImage) -> None:
        if kind == "step" and generation == self._gen:
            self.model.set_image(frame_id, image)

    # --- navigation ----------------------------------------------------------------------------------------
    def current_row(self) -> int:
        return self.table.currentIndex().row()

    def select(self, row: int) -> None:
        if not self.model.steps:
            return
        row = min(max(row, 0), len(self.model.steps) - 1)
        index = self.model.index(row, TEXT)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def next_step(self) -> None:
        self.select(self.current_row() + 1)

    def previous_step(self) -> None:
        self.select(self.current_row() - 1)

    def edit_current(self) -> None:
        row = self.current_row()
        if row >= 0:
            index = self.model.index(row, TEXT)
            self.table.setCurrentIndex(index)
            self.table.edit(index)

    def _on_activated(self, index: QModelIndex) -> None:
        if self.table.state() != QAbstractItemView.State.EditingState:
            self.edit_current()

    # --- changes -------------------------------------------------------------------------------------------
    def _change(self, write: Callable[[int, int], object]) -> None:
        """Run one storage change on the current step, then show it; known problems go to the status bar."""
        row, eid = self.current_row(), self.episode_id
        if row < 0 or eid is None or not self.guard():
            return
        try:
            write(eid, self.model.steps[row].record.event_id)
        except DeskscribeError as exc:
            self.problem.emit(str(exc))
            return
        self.load()
        self.select(row)
        self.changed.emit(eid)

    def _on_text(self, row: int, text: str) -> None:
        if row != self.current_row():
            self.select(row)
        self._change(lambda eid, event_id: step_review.edit_step(self.db, eid, event_id, text))

    def toggle_flag(self, flag: str) -> None:
        row = self.current_row()
        if row < 0:
            return
        new = None if self.model.steps[row].flag == flag else flag
        self._change(lambda eid, event_id: step_review.flag_step(self.db, eid, event_id, new))

    def _trim(self, side: str) -> None:
        current = step_review.current_trim(self.db, self.episode_id) if self.episode_id is not None else None
        start, end = (current.start_event_id, current.end_event_id) if current else (None, None)

        def write(eid: int, event_id: int) -> object:
            if side == "start":
                return step_review.trim(self.db, eid, event_id, end)
            return step_review.trim(self.db, eid, start, event_id)

        self._change(write)

    def trim_start(self) -> None:
        self._trim("start")

    def trim_end(self) -> None:
        self._trim("end")
