"""The description editor: summary and steps, accept / reject / save / revert, and the revision history;
above them the episode's instruction (the request an assistant would get) with its own revision history.

Every change is a new revision (storage keeps them all); reverting copies an old revision forward.
Unsaved edits are never dropped: accepting or rejecting saves them first as a revision by the person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from deskscribe.storage import review

REVISION_ROLE = Qt.ItemDataRole.UserRole + 1


def steps_from_text(text: str) -> list[str]:
    """One step per non-empty line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def revision_label(rev: dict[str, Any]) -> str:
    """``r3 · you (from r1) · 2024-05-01 14:02`` — who wrote a revision (model name or you) and when."""
    who = "you" if rev["author"] == "person" else (rev.get("model") or "model")
    if rev["author"] == "person" and rev.get("parent_revision"):
        who += f" (from r{rev['parent_revision']})"
    when = dt.datetime.fromtimestamp(rev["created_ts"]).strftime("%Y-%m-%d %H:%M")
    return f"r{rev['revision']} · {who} · {when}" + ("  ✓ current" if rev["is_current"] else "")


class DescriptionPanel(QWidget):
    changed = Signal(int)  # episode id whose description or status changed
    problem = Signal(str)  # a one-line message for the status bar

    def __init__(self, db: sqlite_utils.Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.episode_id: int | None = None
        self._loading = False
        self._desc_dirty = False
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        # why a model draft needs a look (its answer was unusable or named what the episode does not show)
        self.flag_label = QLabel()
        self.flag_label.setObjectName("flagLabel")
        self.flag_label.setWordWrap(True)
        self.flag_label.setStyleSheet("color: #a04000;")
        self.instruction_label = QLabel()
        self.instruction_label.setObjectName("instructionLabel")
        self.instruction_label.setWordWrap(True)
        self.summary = QPlainTextEdit()
        self.summary.setObjectName("summaryEdit")
        self.summary.setPlaceholderText("What did you do in this episode? (one or two sentences)")
        self.summary.setTabChangesFocus(True)
        self.summary.setMaximumHeight(90)
        self.steps = QPlainTextEdit()
        self.steps.setObjectName("stepsEdit")
        self.steps.setPlaceholderText("Steps, one per line")
        self.steps.setTabChangesFocus(True)
        for edit in (self.summary, self.steps):
            edit.textChanged.connect(self._on_text)
        self.instruction_dirty = False
        self.instruction = QPlainTextEdit()
        self.instruction.setObjectName("instructionEdit")
        self.instruction.setTabChangesFocus(True)
        self.instruction.setMaximumHeight(60)
        self.instruction.textChanged.connect(self._on_instruction_text)
        self.instruction_history = QListWidget()
        self.instruction_history.setObjectName("instructionHistory")
        self.instruction_history.setMaximumHeight(70)
        self.instruction_history.setToolTip("Double-click a revision to make it the instruction again")
        self.instruction_history.itemDoubleClicked.connect(self._revert_instruction)
        self.accept_btn = QPushButton("&Accept")
        self.reject_btn = QPushButton("&Reject")
        self.save_btn = QPushButton("&Save edit")
        self.revert_btn = QPushButton("Re&vert to selected")
        for btn, slot in ((self.accept_btn, self.accept), (self.reject_btn, self.reject),
                          (self.save_btn, self.save), (self.revert_btn, self.revert_selected)):
            btn.clicked.connect(slot)
            btn.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.history = QListWidget()
        self.history.setObjectName("history")
        self.history.setMaximumHeight(130)
        self.history.itemDoubleClicked.connect(lambda _item: self.revert_selected())
        buttons = QHBoxLayout()
        for btn in (self.accept_btn, self.reject_btn, self.save_btn):
            buttons.addWidget(btn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(self.flag_label)
        layout.addWidget(QLabel("Instruction (the request an assistant would get)"))
        layout.addWidget(self.instruction)
        layout.addWidget(self.instruction_history)
        layout.addWidget(QLabel("Summary"))
        layout.addWidget(self.summary)
        layout.addWidget(self.instruction_label)
        layout.addWidget(QLabel("Steps (one per line)"))
        layout.addWidget(self.steps, 1)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("History"))
        layout.addWidget(self.history)
        layout.addWidget(self.revert_btn)
        self.load(None)

    @property
    def dirty(self) -> bool:
        """Unsaved edits of the description or of the instruction (the window asks before dropping them)."""
        return self._desc_dirty or self.instruction_dirty

    @dirty.setter
    def dirty(self, value: bool) -> None:
        self._desc_dirty = self.instruction_dirty = value

    # --- loading -------------------------------------------------------------------------------------------
    def load(self, episode_id: int | None) -> None:
        self.episode_id = episode_id
        self._loading = True
        current = review.current_description(self.db, episode_id) if episode_id is not None else None
        self.summary.setPlainText(current["summary"] if current else "")
        self.steps.setPlainText("\n".join(current["steps"]) if current else "")
        self._load_instruction(episode_id, current)
        reason = current.get("review_reason") if current and current["author"] == "model" else None
        self.flag_label.setText(f"Flagged for review: {reason}" if reason else "")
        self.flag_label.setVisible(bool(reason))
        instruction = current.get("instruction") if current else None
        self.instruction_label.setText(f"As a request: {instruction}" if instruction else "")
        self.instruction_label.setVisible(bool(instruction))
        self._loading = False
        self._desc_dirty = False
        self.instruction_dirty = False
        self.history.clear()
        if episode_id is not None:
            for rev in reversed(review.description_history(self.db, episode_id)):
                item = QListWidgetItem(revision_label(rev))
                item.setData(REVISION_ROLE, rev["revision"])
                item.setToolTip(rev["summary"])
                self.history.addItem(item)
        self._update_status()
        for w in (self.summary, self.steps, self.accept_btn, self.reject_btn, self.save_btn, self.revert_btn,
                  self.instruction, self.instruction_history):
            w.setEnabled(episode_id is not None)

    def _update_status(self) -> None:
        if self.episode_id is None:
            self.status_label.setText("No episode selected")
            return
        ep = review.get_episode(self.db, self.episode_id)
        status = ep["status"] if ep else "deleted"
        unsaved = self.dirty
        self.status_label.setText(f"Episode {self.episode_id} · <b>{status}</b>"
                                  + (" · unsaved edits" if unsaved else ""))

    def _on_text(self) -> None:
        if not self._loading and not self._desc_dirty:
            self._desc_dirty = True
            self._update_status()

    def _load_instruction(self, episode_id: int | None, current: dict[str, Any] | None) -> None:
        """The stored instruction, or an empty field whose placeholder shows what export falls back to."""
        stored = review.current_instruction(self.db, episode_id) if episode_id is not None else None
        self.instruction.setPlainText(stored or "")
        fallback = (current or {}).get("summary") or ""
        self.instruction.setPlaceholderText(
            f"None yet: exports use the summary ({fallback[:60]})" if fallback
            else "e.g. Rename the report to final.pdf")
        self.instruction_history.clear()
        if episode_id is not None:
            for rev in reversed(review.instruction_history(self.db, episode_id)):
                item = QListWidgetItem(revision_label(rev) + f" · {rev['text'][:50]}")
                item.setData(REVISION_ROLE, rev["text"])
                item.setToolTip(rev["text"])
                self.instruction_history.addItem(item)

    def _on_instruction_text(self) -> None:
        if not self._loading and not self.instruction_dirty:
            self.instruction_dirty = True
            self._update_status()

    def _revert_instruction(self, item: QListWidgetItem) -> None:
        if self.episode_id is None:
            return
        review.add_instruction(self.db, self.episode_id, str(item.data(REVISION_ROLE)))
        self._after_change()

    def focus_editor(self) -> None:
        self.summary.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.summary.moveCursor(self.summary.textCursor().MoveOperation.End)

    # --- actions -------------------------------------------------------------------------------------------
    def save(self) -> bool:
        """Store the edited description as a new revision by the person (status becomes ``edited``) and an
        edited instruction as a new instruction revision (the description's status is left alone)."""
        if self.episode_id is None or not self.dirty:
            return False
        summary = self.summary.toPlainText().strip()
        if self._desc_dirty and not summary:
            self.problem.emit("The summary is empty: write what you did, or reject the episode.")
            return False
        instruction = self.instruction.toPlainText().strip()
        if self.instruction_dirty and instruction:
            review.add_instruction(self.db, self.episode_id, instruction)
        if self._desc_dirty:
            review.add_description(self.db, self.episode_id, summary, steps_from_text(self.steps.toPlainText()),
                                   author="person")
        self._after_change()
        return True

    def accept(self) -> None:
        if self.episode_id is None:
            return
        if self.dirty and not self.save():
            return
        if review.current_description(self.db, self.episode_id) is None:
            self.problem.emit("Nothing to accept yet: write a summary first (E), or describe the backlog.")
            return
        review.review(self.db, self.episode_id, "accepted")
        self._after_change()

    def reject(self) -> None:
        if self.episode_id is None:
            return
        if self._desc_dirty and not self.summary.toPlainText().strip():
            self._desc_dirty = False  # an emptied summary is not a revision; the instruction edit is still kept
        if self.dirty:
            self.save()
        review.review(self.db, self.episode_id, "rejected")
        self._after_change()

    def revert_selected(self) -> None:
        item = self.history.currentItem()
        if self.episode_id is None or item is None:
            self.problem.emit("Select a revision in the history to revert to.")
            return
        review.revert_to(self.db, self.episode_id, int(item.data(REVISION_ROLE)))
        self._after_change()

    def _after_change(self) -> None:
        episode_id = self.episode_id
        self.load(episode_id)
        if episode_id is not None:
            self.changed.emit(episode_id)
