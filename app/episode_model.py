"""The review window's episode list: a table model that pages episodes in from SQLite as you scroll."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from deskscribe.storage import review

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Start", "Length", "Frames", "Apps", "Status", "Description")
EPISODE_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def _length(row: dict[str, Any]) -> str:
    seconds = max(0, int((row["end_ts"] or row["start_ts"]) - row["start_ts"]))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h{seconds % 3600 // 60:02d}"


def _start(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


class EpisodeTableModel(QAbstractTableModel):
    """Newest episodes first; ``fetchMore`` loads the next page (keyset paging) when the view needs it."""

    def __init__(self, db: sqlite_utils.Database, page_size: int = review.PAGE_SIZE, parent: Any = None) -> None:
        super().__init__(parent)
        self.db = db
        self.page_size = page_size
        self.filter = review.EpisodeFilter()
        self.rows: list[dict[str, Any]] = []
        self._more = True
        self._fetching = False  # views and testers may call fetchMore again from inside our signals
        self.rows = self._fetch_page()

    # --- loading -------------------------------------------------------------------------------------------
    def _fetch_page(self) -> list[dict[str, Any]]:
        after = review.cursor_after(self.rows[-1]) if self.rows else None
        page = review.list_episodes(self.db, self.filter, after=after, limit=self.page_size)
        self._more = len(page) == self.page_size
        return page

    def set_filter(self, flt: review.EpisodeFilter) -> None:
        self._fetching = True  # no fetchMore from slots reacting to the reset before it is complete
        try:
            self.beginResetModel()
            self.filter = flt
            self.rows = []
            self.rows = self._fetch_page()
            self.endResetModel()
        finally:
            self._fetching = False

    def reload(self) -> None:
        self.set_filter(self.filter)

    def total(self) -> int:
        """How many episodes match the filter (not only the pages loaded so far)."""
        return review.count_episodes(self.db, self.filter)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and self._more and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        try:
            page = self._fetch_page()
            if page:
                first = len(self.rows)
                self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
                self.rows.extend(page)
                self.endInsertRows()
        finally:
            self._fetching = False

    def refresh_episode(self, episode_id: int) -> None:
        """Re-read one row after a review action; the row stays put even if it no longer matches the filter."""
        row_no = self.row_of(episode_id)
        if row_no is None:
            return
        fresh = review.episode_row(self.db, episode_id)
        if fresh is None:
            self.remove_episode(episode_id)
            return
        self.rows[row_no] = fresh
        self.dataChanged.emit(self.index(row_no, 0), self.index(row_no, len(COLUMNS) - 1))

    def remove_episode(self, episode_id: int) -> None:
        row_no = self.row_of(episode_id)
        if row_no is None:
            return
        self.beginRemoveRows(QModelIndex(), row_no, row_no)
        del self.rows[row_no]
        self.endRemoveRows()

    def row_of(self, episode_id: int) -> int | None:
        for i, row in enumerate(self.rows):
            if row["id"] == episode_id:
                return i
        return None

    def episode_id(self, row_no: int) -> int | None:
        return self.rows[row_no]["id"] if 0 <= row_no < len(self.rows) else None

    # --- Qt model interface --------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(COLUMNS):
                return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows) or not 0 <= index.column() < len(COLUMNS):
            return None
        row = self.rows[index.row()]
        if role == EPISODE_ID_ROLE:
            return row["id"]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return row["summary"] or f"episode {row['id']} (no description yet)"
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(row: dict[str, Any], column: int) -> str:
        if column == 0:
            return _start(row["start_ts"])
        if column == 1:
            return _length(row)
        if column == 2:
            return str(row["frames"])
        if column == 3:
            return ", ".join(row["apps"])
        if column == 4:
            return row["status"]
        return (row["summary"] or "").replace("\n", " ")
