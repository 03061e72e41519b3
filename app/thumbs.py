"""Decoding frame images off the GUI thread.

A ``QRunnable`` opens its own read-only connection, reads each image's bytes, decodes (and for thumbnails,
scales while decoding) into a ``QImage`` and emits it. ``QImage`` is safe to build on any thread; only the
``QPixmap`` conversion happens on the main thread, in the slot. A newer request supersedes older ones
(the generation number), so skipping quickly through episodes never queues up stale work.
"""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, QRunnable, QSize, QThreadPool, Signal
from PySide6.QtGui import QImage

from deskscribe.storage import review
from deskscribe.storage.db import open_db

log = logging.getLogger(__name__)


def decode(data: bytes, max_size: QSize | None = None) -> QImage:
    """Decode encoded image bytes, scaled to fit ``max_size``; returns a null QImage for unreadable data.

    Pillow decodes (JPEG draft mode scales while decoding, and the GIL is released meanwhile). Qt's own
    QImageReader over a Python QBuffer is avoided on purpose: its reads call back into Python from the
    worker thread while holding Qt's plugin lock, which deadlocked against the GUI thread.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            if max_size is not None:
                box = (max_size.width(), max_size.height())
                img.draft("RGB", box)
                img.thumbnail(box)
            rgb = img.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        log.warning("cannot decode an image of %d bytes", len(data))
        return QImage()
    raw = rgb.tobytes()
    return QImage(raw, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()


class _Job(QRunnable):
    def __init__(self, loader: ImageLoader, generation: int, db_path: Path,
                 items: list[tuple[int, str]], max_size: QSize | None, kind: str) -> None:
        super().__init__()
        self.loader, self.generation, self.db_path = loader, generation, db_path
        self.items, self.max_size, self.kind = items, max_size, kind

    def run(self) -> None:
        try:
            db = open_db(self.db_path, readonly=True)
        except Exception:  # noqa: BLE001 - report, never kill the pool thread
            log.exception("cannot open %s for thumbnails", self.db_path)
            return
        try:
            for frame_id, image_hash in self.items:
                if self.loader.stale(self.kind, self.generation):
                    return
                data = review.thumbnail_bytes(db, image_hash)
                image = decode(data, self.max_size) if data else QImage()
                try:
                    self.loader.ready.emit(self.kind, self.generation, frame_id, image)
                except RuntimeError:  # the window was destroyed while we decoded: nobody to tell
                    return
        finally:
            db.conn.close()


class ImageLoader(QObject):
    """Loads thumbnails (kind ``thumb``), the selected frame (kind ``full``) and the step review's frames (kind
    ``step``) on a small thread pool."""

    ready = Signal(str, int, int, QImage)  # kind, generation, frame id, image (null if the image is gone)

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._lock = threading.Lock()
        self._generation = {"thumb": 0, "full": 0, "step": 0}

    def stale(self, kind: str, generation: int) -> bool:
        with self._lock:
            return self._generation[kind] != generation

    def current(self, kind: str) -> int:
        with self._lock:
            return self._generation[kind]

    def request(self, kind: str, items: list[tuple[int, str]], max_size: QSize | None = None) -> int:
        """Queue decoding of ``(frame_id, image_hash)`` items; returns the generation the results carry."""
        with self._lock:
            self._generation[kind] += 1
            generation = self._generation[kind]
        if items:
            self.pool.start(_Job(self, generation, self.db_path, items, max_size, kind))
        return generation

    def shutdown(self, wait_ms: int = 3000) -> None:
        with self._lock:
            for kind in self._generation:
                self._generation[kind] += 1
        self.pool.clear()
        self.pool.waitForDone(wait_ms)
