"""The step review's table model: one row per action (storage/step_review.py ``review_steps``) with its before
frame (the click point and the element box drawn on it), the action, the step text (editable), the after frame
and the person's marks. Thumbnails arrive decoded from the window's ImageLoader (app/thumbs.py, kind ``step``);
the model only draws on them, on the main thread. Writing is the panel's job (app/step_review.py): ``setData``
on the text column emits ``text_edited``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap

from deskscribe.storage import events
from deskscribe.storage.step_review import ReviewStep

THUMB = QSize(144, 90)
COLUMNS = ("#", "Before", "Action", "Step", "After", "Mark")
BEFORE, ACTION, TEXT, AFTER, MARK = 1, 2, 3, 4, 5
POINT_COLOUR = QColor(255, 0, 64)
BOX_COLOUR = QColor(0, 160, 255)
ROW_COLOURS = {"wrong": QColor(255, 215, 215), "redundant": QColor(255, 243, 200), "trimmed": QColor(225, 225, 225)}
Index = QModelIndex | QPersistentModelIndex


def mark_text(step: ReviewStep) -> str:
    parts = [{"wrong": "✗ wrong", "redundant": "≈ redundant"}.get(step.flag or "", "")]
    parts.append("" if step.kept else "trimmed")
    return "\n".join(p for p in parts if p)


def draw_action(image: QImage, step: ReviewStep) -> QPixmap:
    """The before frame with the element box and the click point drawn, scaled from the frame's pixels."""
    pix = QPixmap.fromImage(image)
    frame = step.before or {}
    sx = image.width() / max(int(frame.get("width") or image.width()), 1)
    sy = image.height() / max(int(frame.get("height") or image.height()), 1)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    element = step.record.element
    if element is not None and element.box:
        x, y, w, h = element.box
        painter.setPen(QPen(BOX_COLOUR, 2))
        painter.drawRect(QRectF(x * sx, y * sy, max(w * sx, 2), max(h * sy, 2)))
    point = step.record.point
    if point is not None:
        painter.setPen(QPen(POINT_COLOUR, 2))
        centre = QPointF(point[0] * sx, point[1] * sy)
        painter.drawEllipse(centre, 6, 6)
        painter.drawLine(centre - QPointF(3, 0), centre + QPointF(3, 0))
        painter.drawLine(centre - QPointF(0, 3), centre + QPointF(0, 3))
    painter.end()
    return pix


class StepTableModel(QAbstractTableModel):
    text_edited = Signal(int, str)  # row, the person's text

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.steps: list[ReviewStep] = []
        self._images: dict[int, QImage] = {}  # frame id -> decoded thumbnail
        self._pixmaps: dict[tuple[int, int], QPixmap] = {}  # (row, column) -> drawn thumbnail

    def set_steps(self, steps: list[ReviewStep]) -> None:
        """A new episode: everything is replaced."""
        self.beginResetModel()
        self.steps = steps
        self._images.clear()
        self._pixmaps.clear()
        self.endResetModel()

    def update_steps(self, steps: list[ReviewStep]) -> None:
        """The same actions after a change (text, flag, trim): rows keep their thumbnails."""
        if [s.record.event_id for s in steps] != [s.record.event_id for s in self.steps]:
            self.set_steps(steps)
            return
        self.steps = steps
        if steps:
            self.dataChanged.emit(self.index(0, 0), self.index(len(steps) - 1, len(COLUMNS) - 1))

    def frames(self) -> list[tuple[int, str]]:
        """(frame id, image hash) of every before and after frame, each once, for the image loader."""
        seen: dict[int, str] = {}
        for s in self.steps:
            for frame in (s.before, s.after):
                if frame is not None:
                    seen.setdefault(int(frame["id"]), str(frame["image_hash"]))
        return list(seen.items())

    def set_image(self, frame_id: int, image: QImage) -> None:
        if image.isNull():
            return
        self._images[frame_id] = image
        for row, s in enumerate(self.steps):
            for col, frame in ((BEFORE, s.before), (AFTER, s.after)):
                if frame is not None and frame["id"] == frame_id:
                    self._pixmaps.pop((row, col), None)
                    self.dataChanged.emit(self.index(row, col), self.index(row, col))

    def images_loaded(self) -> int:
        return len(self._images)

    def _pixmap(self, row: int, col: int) -> QPixmap | None:
        s = self.steps[row]
        frame = s.before if col == BEFORE else s.after
        if frame is None or frame["id"] not in self._images:
            return None
        if (row, col) not in self._pixmaps:
            image = self._images[frame["id"]]
            self._pixmaps[(row, col)] = draw_action(image, s) if col == BEFORE else QPixmap.fromImage(image)
        return self._pixmaps[(row, col)]

    # --- Qt model interface --------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.steps)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsEditable if index.column() == TEXT else base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.steps):
            return None
        s, col = self.steps[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == 0:
                return str(index.row() + 1)
            if col == ACTION:
                return events.describe(s.record.event)
            if col == TEXT:
                return s.text if s.text or role == Qt.ItemDataRole.EditRole else "(no step written)"
            if col == MARK:
                return mark_text(s)
            if col in (BEFORE, AFTER) and self._pixmap(index.row(), col) is None:
                frame = s.before if col == BEFORE else s.after
                return "loading…" if frame is not None else "no frame"
        if role == Qt.ItemDataRole.DecorationRole and col in (BEFORE, AFTER):
            return self._pixmap(index.row(), col)
        if role == Qt.ItemDataRole.BackgroundRole:
            key = s.flag if s.flag else (None if s.kept else "trimmed")
            return QBrush(ROW_COLOURS[key]) if key else None
        if role == Qt.ItemDataRole.ForegroundRole and not s.kept:
            return QBrush(QColor(120, 120, 120))
        if role == Qt.ItemDataRole.ToolTipRole and col == TEXT:
            return f"by {s.author}" if s.author else None
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or index.column() != TEXT or role != Qt.ItemDataRole.EditRole:
            return False
        text = str(value).strip()
        if text and text != self.steps[index.row()].text:
            self.text_edited.emit(index.row(), text)
        return True
