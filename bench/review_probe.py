"""`deskscribe review` with a probe: prints when the episode list has been painted, then quits.

Run by review_bench.py as a fresh process. The probe is an event filter on the episode table's viewport:
at its first Paint event with rows in the model it schedules a zero-delay timer, which Qt runs only after
that paint event has been handled — so the time printed is after the list was painted, not before
``app.exec()``. Then it waits (polling on a Qt timer) for the selected episode's thumbnails and quits.
Times are CLOCK_MONOTONIC, which the parent shares.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

import deskscribe.app.review_window as review_window
from deskscribe.cli import main

Base = review_window.ReviewWindow


class Probe(QObject):
    def __init__(self, window: Base) -> None:
        super().__init__(window)
        self.window = window
        self.painted = False
        self.poll = QTimer(self, interval=5)
        self.poll.timeout.connect(self.check_thumbnails)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if not self.painted and event.type() == QEvent.Type.Paint and self.window.model.rowCount() > 0:
            self.painted = True
            QTimer.singleShot(0, self.after_paint)
        return False

    def after_paint(self) -> None:
        print(f"PAINTED {time.monotonic():.6f} rows={self.window.model.rowCount()}", flush=True)
        self.poll.start()

    def check_thumbnails(self) -> None:
        panel = self.window.frames
        if panel.frames and panel.thumbnails_loaded() >= len(panel.frames):
            self.poll.stop()
            print(f"THUMBNAILS {time.monotonic():.6f} n={len(panel.frames)}", flush=True)
            self.window.close()
            QApplication.quit()


class ProbedWindow(Base):  # type: ignore[misc, valid-type]
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._probe = Probe(self)
        self.table.viewport().installEventFilter(self._probe)


review_window.ReviewWindow = ProbedWindow  # run_review imports it at call time
if __name__ == "__main__":
    main(["review"], standalone_mode=True)
