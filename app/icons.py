"""The tray icon, drawn in code: a coloured disc per state, so no image files need packaging."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

# state -> (fill colour, short label shown on the disc)
STATE_STYLE = {
    "capturing": ("#2e9d4f", ""),
    "idle": ("#7f8c8d", ""),
    "paused": ("#e0a526", "II"),
    "describing": ("#2f6fd0", "…"),
    "disk_full": ("#c0392b", "!"),
    "stopped": ("#c0392b", ""),
    "unhealthy": ("#d35400", "!"),
}


def state_icon(state: str, size: int = 64) -> QIcon:
    """A filled circle in the state's colour with an optional mark (pause bars, '!')."""
    colour, mark = STATE_STYLE.get(state, STATE_STYLE["stopped"])
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = size * 0.06
    rect = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    painter.setPen(QPen(QColor("#1b1b1b"), max(1.0, size / 24)))
    painter.setBrush(QColor(colour))
    painter.drawEllipse(rect)
    if state == "stopped":
        painter.setPen(QPen(QColor("white"), size / 10))
        painter.drawLine(rect.topLeft() + (rect.center() - rect.topLeft()) * 0.45,
                         rect.bottomRight() - (rect.bottomRight() - rect.center()) * 0.45)
    elif mark:
        font = painter.font()
        font.setBold(True)
        font.setPixelSize(int(size * 0.5))
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, mark)
    painter.end()
    return QIcon(pixmap)
