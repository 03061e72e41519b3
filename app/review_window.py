"""The review window: browse episodes, look at their frames, and correct what the model said you did."""

from __future__ import annotations

import logging
from typing import Any

import sqlite_utils
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMainWindow, QMessageBox,
    QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget,
)

from deskscribe.app.description_panel import DescriptionPanel
from deskscribe.app.episode_model import EpisodeTableModel
from deskscribe.app.frame_panel import FramePanel
from deskscribe.app.step_review import StepReviewPanel
from deskscribe.app.thumbs import ImageLoader
from deskscribe.storage import review

log = logging.getLogger(__name__)

# (name, text, shortcuts, slot name) — the single source for menus, shortcuts and the help dialog.
SHORTCUTS: list[tuple[str, str, list[str], str]] = [
    ("next", "&Next episode", ["J", "Ctrl+Down"], "next_episode"),
    ("previous", "&Previous episode", ["K", "Ctrl+Up"], "previous_episode"),
    ("next_frame", "Next &frame", ["L", "Ctrl+Right"], "next_frame"),
    ("previous_frame", "Previous fra&me", ["H", "Ctrl+Left"], "previous_frame"),
    ("accept", "&Accept description", ["Ctrl+Return", "A"], "accept"),
    ("reject", "&Reject episode", ["R"], "reject"),
    ("edit", "&Edit description", ["E"], "edit"),
    ("save", "&Save edit", ["Ctrl+S"], "save"),
    ("search", "Sea&rch", ["Ctrl+F", "/"], "focus_search"),
    ("refresh", "Re&fresh list", ["F5"], "refresh"),
    ("delete_frame", "Delete selected fra&me…", ["Delete"], "delete_frame"),
    ("delete_episode", "&Delete episode…", ["Shift+Delete"], "delete_episode"),
    ("help", "&Keyboard shortcuts", ["F1", "?"], "show_shortcuts"),
    # the step review (the Steps tab; app/step_review.py) — they act while it is shown
    ("steps", "Review &steps / frames", ["T"], "toggle_steps"),
    ("next_step", "Ne&xt step", ["N"], "next_step"),
    ("previous_step", "Previous ste&p", ["P"], "previous_step"),
    ("edit_step", "Edit step &text (or Enter)", ["F2"], "edit_step"),
    ("wrong_step", "Mark step &wrong (again: clear)", ["W"], "mark_wrong"),
    ("redundant_step", "Mark step re&dundant (again: clear)", ["D"], "mark_redundant"),
    ("trim_start", "Trim: episode &starts at this step", ["["], "trim_start"),
    ("trim_end", "Trim: episode &ends at this step", ["]"], "trim_end"),
]
STEP_ACTIONS = ("next_step", "previous_step", "edit_step", "wrong_step", "redundant_step", "trim_start", "trim_end")


class ReviewWindow(QMainWindow):
    def __init__(self, db: sqlite_utils.Database, parent: QWidget | None = None,
                 page_size: int = review.PAGE_SIZE) -> None:
        super().__init__(parent)
        self.db = db
        self.setWindowTitle("deskscribe — review")
        self.resize(1400, 880)
        db_path = review.db_file(db)
        if db_path is None:
            raise ValueError("the review window needs a database file, not an in-memory database")
        self.loader = ImageLoader(db_path, self)
        self.model = EpisodeTableModel(db, page_size=page_size, parent=self)
        self.table = self._make_table()
        self.frames = FramePanel(db, self.loader)
        self.editor = DescriptionPanel(db)
        self.editor.changed.connect(self._on_changed)
        self.editor.problem.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self.steps = StepReviewPanel(db, self.loader)
        self.steps.guard = self._steps_may_change
        self.steps.changed.connect(self._on_steps_changed)
        self.steps.problem.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("viewTabs")
        self.day_box, self.app_box, self.status_box = QComboBox(), QComboBox(), QComboBox()
        self.search = QLineEdit()
        self.count_label = QLabel()
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.apply_filter)
        self._current: int | None = None
        self.actions_by_name: dict[str, QAction] = {}
        self._build_layout()
        self._build_actions()
        self._fill_filters()
        self.apply_filter()

    # --- construction --------------------------------------------------------------------------------------
    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("episodes")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(22)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in enumerate((120, 55, 50, 110, 80)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.selectionModel().currentRowChanged.connect(self._on_row)
        return table

    def _build_layout(self) -> None:
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search titles, captions, descriptions  (Ctrl+F or /)")
        self.search.setClearButtonEnabled(True)
        self.search.textEdited.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search_entered)
        self.status_box.addItem("Any status", None)
        for status in review.STATUSES:
            self.status_box.addItem(status.capitalize(), status)
        for box in (self.day_box, self.app_box, self.status_box):
            box.activated.connect(lambda _i: self.apply_filter())
        bar = QHBoxLayout()
        for label, widget in (("Day", self.day_box), ("App", self.app_box), ("Status", self.status_box)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count_label)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        self.tabs.addTab(self.frames, "&Frames")
        self.tabs.addTab(self.steps, "S&teps")
        split.addWidget(self.tabs)
        split.addWidget(self.editor)
        split.setSizes([480, 600, 320])
        self.split = split
        self.tabs.currentChanged.connect(self._on_tab)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu("&Episode")
        steps_menu = self.menuBar().addMenu("&Steps")
        for name, text, keys, slot in SHORTCUTS:
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(getattr(self, slot))
            self.addAction(action)
            if name == "help":
                self.menuBar().addMenu("&Help").addAction(action)
            elif name == "steps" or name in STEP_ACTIONS:
                steps_menu.addAction(action)
            else:
                menu.addAction(action)
                if name in ("previous_frame", "save", "refresh"):
                    menu.addSeparator()
            self.actions_by_name[name] = action

    def _fill_filters(self) -> None:
        self.day_box.clear()
        self.day_box.addItem("All days", None)
        for day, n in review.days(self.db):
            self.day_box.addItem(f"{day:%a %Y-%m-%d} ({n})", day)
        self.app_box.clear()
        self.app_box.addItem("Any app", None)
        for app in review.apps(self.db):
            self.app_box.addItem(app, app)

    # --- filtering and selection ---------------------------------------------------------------------------
    def current_filter(self) -> review.EpisodeFilter:
        return review.EpisodeFilter(day=self.day_box.currentData(), app=self.app_box.currentData(),
                                    status=self.status_box.currentData(), search=self.search.text())

    def apply_filter(self) -> None:
        self._search_timer.stop()
        if not self._confirm_leave():
            return
        self._current = None
        self.model.set_filter(self.current_filter())
        n = self.model.total()
        self.count_label.setText(f"{n} episode{'s' if n != 1 else ''}")
        if self.model.rowCount() > 0:
            self.select_row(0)
        else:
            self._show_episode(None)

    def _search_entered(self) -> None:
        self.apply_filter()
        self.table.setFocus()

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def current_episode(self) -> int | None:
        return self._current

    def _on_row(self, current: QModelIndex, previous: QModelIndex) -> None:
        episode_id = self.model.episode_id(current.row()) if current.isValid() else None
        if episode_id == self._current:
            return
        if not self._confirm_leave():
            self.table.selectionModel().blockSignals(True)
            self.select_row(previous.row())
            self.table.selectionModel().blockSignals(False)
            return
        self._show_episode(episode_id)

    def _show_episode(self, episode_id: int | None) -> None:
        self._current = episode_id
        self.frames.show_episode(episode_id)
        self.editor.load(episode_id)
        self.steps.show_episode(episode_id)

    def _confirm_leave(self) -> bool:
        """Unsaved edits are never dropped silently: save, discard, or stay."""
        if not self.editor.dirty:
            return True
        answer = QMessageBox.question(
            self, "Unsaved description", "Save your edit of this episode's description?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            return self.editor.save()
        self.editor.dirty = False
        return True

    def _on_changed(self, episode_id: int) -> None:
        self.model.refresh_episode(episode_id)
        self.statusBar().showMessage(f"episode {episode_id}: saved", 4000)
        if self.steps.isVisible():  # the description editor changed the steps' texts
            self.steps.load()

    def _steps_may_change(self) -> bool:
        if self.editor.dirty:
            self.statusBar().showMessage("Save (Ctrl+S) or undo your edit of the description first", 8000)
            return False
        return True

    def _on_steps_changed(self, episode_id: int) -> None:
        self.editor.load(episode_id)  # the new revision the step review wrote
        self.model.refresh_episode(episode_id)
        self.statusBar().showMessage(f"episode {episode_id}: step saved", 4000)

    # --- keyboard actions ----------------------------------------------------------------------------------
    def _step(self, delta: int) -> None:
        row = self.table.currentIndex().row()
        target = max(0, row + delta) if row >= 0 else 0
        if target >= self.model.rowCount() and self.model.canFetchMore():
            self.model.fetchMore()
        if target < self.model.rowCount():
            self.select_row(target)
            self.table.setFocus()

    def next_episode(self) -> None:
        self._step(1)

    def previous_episode(self) -> None:
        self._step(-1)

    def _step_frame(self, delta: int) -> None:
        strip = self.frames.strip
        if strip.count():
            strip.setCurrentRow(min(strip.count() - 1, max(0, strip.currentRow() + delta)))

    def next_frame(self) -> None:
        self._step_frame(1)

    def previous_frame(self) -> None:
        self._step_frame(-1)

    def accept(self) -> None:
        self.editor.accept()

    def reject(self) -> None:
        self.editor.reject()

    def edit(self) -> None:
        self.editor.focus_editor()

    def save(self) -> None:
        self.editor.save()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def refresh(self) -> None:
        keep = self._current
        self._fill_filters()
        self.apply_filter()
        if keep is not None and (row := self.model.row_of(keep)) is not None:
            self.select_row(row)

    def delete_episode(self) -> None:
        episode_id = self._current
        if episode_id is None:
            return
        n = len(self.frames.frames)
        if QMessageBox.question(
            self, "Delete episode",
            f"Delete episode {episode_id} with its {n} screenshots, input events and descriptions?\n"
            "The images are removed from the database file; this cannot be undone.",
        ) != QMessageBox.StandardButton.Yes:
            return
        row = self.model.row_of(episode_id) or 0
        self.editor.dirty = False
        review.delete_episode(self.db, episode_id)
        self.model.remove_episode(episode_id)
        self._current = None
        if self.model.rowCount():
            self.select_row(min(row, self.model.rowCount() - 1))
        else:
            self._show_episode(None)
        self.statusBar().showMessage(f"episode {episode_id} deleted", 6000)

    def delete_frame(self) -> None:
        frame: dict[str, Any] | None = self.frames.current_frame()
        if frame is None or self._current is None:
            return
        if QMessageBox.question(
            self, "Delete frame",
            f"Delete this screenshot ({frame['app'] or 'unknown app'}, {frame['window_title'] or ''})?\n"
            "The image is removed from the database file; this cannot be undone.",
        ) != QMessageBox.StandardButton.Yes:
            return
        row = self.frames.strip.currentRow()
        review.delete_frames(self.db, [frame["id"]])
        self.frames.show_episode(self._current)
        if self.frames.strip.count():
            self.frames.strip.setCurrentRow(min(row, self.frames.strip.count() - 1))
        self.model.refresh_episode(self._current)
        self.statusBar().showMessage("frame deleted", 6000)

    # --- the step review -----------------------------------------------------------------------------------
    def toggle_steps(self) -> None:
        self.tabs.setCurrentWidget(self.frames if self.tabs.currentWidget() is self.steps else self.steps)
        if self.tabs.currentWidget() is self.steps:
            self.steps.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_tab(self, _index: int) -> None:
        """The step review's rows want width: the episode list gives some up while it is shown."""
        sizes = self.split.sizes()
        if self.tabs.currentWidget() is self.steps and sizes[1] < 900 and sum(sizes) > 1200:
            total = sum(sizes)
            self.split.setSizes([total * 14 // 100, total * 60 // 100, total - total * 74 // 100])

    def _on_steps(self, act: str) -> None:
        if self.tabs.currentWidget() is not self.steps:
            self.statusBar().showMessage("Press T to review the episode step by step", 6000)
            return
        {"next": self.steps.next_step, "previous": self.steps.previous_step, "edit": self.steps.edit_current,
         "wrong": lambda: self.steps.toggle_flag("wrong"), "redundant": lambda: self.steps.toggle_flag("redundant"),
         "start": self.steps.trim_start, "end": self.steps.trim_end}[act]()

    def next_step(self) -> None:
        self._on_steps("next")

    def previous_step(self) -> None:
        self._on_steps("previous")

    def edit_step(self) -> None:
        self._on_steps("edit")

    def mark_wrong(self) -> None:
        self._on_steps("wrong")

    def mark_redundant(self) -> None:
        self._on_steps("redundant")

    def trim_start(self) -> None:
        self._on_steps("start")

    def trim_end(self) -> None:
        self._on_steps("end")

    def show_shortcuts(self) -> None:
        lines = [f"{text.replace('&', '').rstrip('…')}: {', '.join(keys)}" for _, text, keys, _ in SHORTCUTS]
        QMessageBox.information(self, "Keyboard shortcuts", "\n".join(lines))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self._confirm_leave():
            event.ignore()
            return
        self.loader.shutdown()
        super().closeEvent(event)
