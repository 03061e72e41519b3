"""The episode's frames: a filmstrip of thumbnails and a large view of the selected frame with its details."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QLabel, QListView, QListWidget, QListWidgetItem, QSizePolicy, QSplitter, QTextBrowser, QVBoxLayout, QWidget,
)

from deskscribe.app.thumbs import ImageLoader
from deskscribe.storage import events, review

THUMB = QSize(160, 100)
FRAME_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def describe_event(event: dict[str, Any]) -> str:
    """One input event as a short phrase ("left click on push button 'Save' at 120,40", "ctrl+s", "12 keys")."""
    parsed = events.parse(event["kind"], event["details"])
    if parsed is None:
        d = event["details"]
        return f"{event['kind']} {json.dumps(d, sort_keys=True)}" if d else str(event["kind"])
    return events.describe(parsed)


class ScaledImageLabel(QLabel):
    """Shows a QImage scaled to fit, re-scaling on resize (the original is kept, not the scaled copy)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(200, 120)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_image(self, image: QImage, placeholder: str = "") -> None:
        self._image = image
        if image.isNull():
            self.setPixmap(QPixmap())
            self.setText(placeholder)
        else:
            self.setText("")
            self._rescale()

    def has_image(self) -> bool:
        return not self._image.isNull()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image.isNull():
            return
        pix = QPixmap.fromImage(self._image)  # main thread only: this is the one conversion we do here
        self.setPixmap(pix.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation))


class FramePanel(QWidget):
    """Filmstrip on top, the selected frame below it, and a details box (caption, app, title, time, events)."""

    frame_selected = Signal(int)

    def __init__(self, db: sqlite_utils.Database, loader: ImageLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.loader = db, loader
        self.frames: list[dict[str, Any]] = []
        self.strip = QListWidget()
        self.strip.setObjectName("filmstrip")
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(THUMB)
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setFixedHeight(THUMB.height() + 56)
        self.strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip.setSpacing(4)
        self.strip.setHorizontalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.strip.currentRowChanged.connect(self._on_row)
        self.view = ScaledImageLabel()
        self.view.setObjectName("frameView")
        self.details = QTextBrowser()
        self.details.setObjectName("frameDetails")
        self.details.setMinimumHeight(80)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.details)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.strip)
        layout.addWidget(split, 1)
        self._thumb_gen = -1
        self._full_gen = -1
        self._items: dict[int, QListWidgetItem] = {}
        loader.ready.connect(self._on_image)

    def show_episode(self, episode_id: int | None) -> None:
        self.strip.blockSignals(True)
        self.strip.clear()
        self.strip.blockSignals(False)
        self._items.clear()
        self.frames = review.filmstrip(self.db, episode_id) if episode_id is not None else []
        for i, frame in enumerate(self.frames):
            item = QListWidgetItem(f"{i + 1} · {dt.datetime.fromtimestamp(frame['ts']):%H:%M:%S}")
            item.setData(FRAME_ID_ROLE, frame["id"])
            item.setSizeHint(QSize(THUMB.width() + 8, THUMB.height() + 30))
            self.strip.addItem(item)
            self._items[frame["id"]] = item
        self._thumb_gen = self.loader.request("thumb", [(f["id"], f["image_hash"]) for f in self.frames], THUMB)
        if self.frames:
            self.strip.setCurrentRow(0)
        else:
            self._full_gen = self.loader.request("full", [])
            self.view.set_image(QImage(), "no frames" if episode_id is not None else "")
            self.details.clear()

    def current_frame(self) -> dict[str, Any] | None:
        row = self.strip.currentRow()
        return self.frames[row] if 0 <= row < len(self.frames) else None

    def thumbnails_loaded(self) -> int:
        return sum(1 for item in self._items.values() if not item.icon().isNull())

    def _on_row(self, row: int) -> None:
        frame = self.current_frame()
        if frame is None:
            return
        self.view.set_image(QImage(), "loading…")
        self._full_gen = self.loader.request("full", [(frame["id"], frame["image_hash"])])
        self.details.setHtml(self._details_html(frame))
        self.frame_selected.emit(frame["id"])

    def _details_html(self, frame: dict[str, Any]) -> str:
        from html import escape

        caption = review.latest_caption(self.db, frame["image_hash"])
        events = review.frame_events(self.db, frame["id"])
        when = dt.datetime.fromtimestamp(frame["ts"]).strftime("%Y-%m-%d %H:%M:%S")
        parts = [
            f"<b>{escape(frame['app'] or 'unknown app')}</b> — {escape(frame['window_title'] or '')}",
            f"<br>{when} · {frame['width']}×{frame['height']} · monitor {frame['monitor']}",
        ]
        if caption:
            parts.append(f"<p><b>Caption</b> ({escape(caption['model'])}): {escape(caption['text'])}</p>")
        else:
            parts.append("<p><i>No caption yet.</i></p>")
        if events:
            parts.append("<p><b>Input</b>: " + "; ".join(escape(describe_event(e)) for e in events) + "</p>")
        return "".join(parts)

    def _on_image(self, kind: str, generation: int, frame_id: int, image: QImage) -> None:
        if kind == "thumb" and generation == self._thumb_gen:
            item = self._items.get(frame_id)
            if item is not None and not image.isNull():
                item.setIcon(QIcon(QPixmap.fromImage(image)))
        elif kind == "full" and generation == self._full_gen:
            self.view.set_image(image, "image deleted")
