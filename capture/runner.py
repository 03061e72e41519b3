"""Running capture in the foreground: logging, signals, and the wait for the stop.

SIGINT/SIGTERM stop capture (the tray stops its child this way); SIGUSR1 pauses and SIGUSR2 resumes, through
the same pause switch in the database that ``deskscribe pause``/``resume`` flip.
"""

from __future__ import annotations

import logging
import logging.handlers
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskscribe.config import Config
from deskscribe.errors import DatabaseError, DeskscribeError
from deskscribe.storage.locks import FileLock, LockBusy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureSummary:
    frames: int
    episodes: int


def setup_logging(log_file: Path, verbose: bool = False) -> None:
    """Capture logs go to ``log_file`` (rotated) and stderr; apscheduler's chatter is kept down."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger = logging.getLogger("deskscribe")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    file_handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=2**20, backupCount=3, encoding="utf-8")
    stderr_handler = logging.StreamHandler(sys.stderr)
    for handler in (file_handler, stderr_handler):
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def lock_data_folder(path: Path) -> FileLock:
    """One capture process per data folder: the lock is held for the life of the process."""
    lock = FileLock(path)
    try:
        lock.acquire()
    except LockBusy as exc:
        raise DeskscribeError(f"capture is already running for this data folder (pid {exc.pid}); "
                              "stop it first or set DESKSCRIBE_HOME to another folder") from exc
    return lock


def run_capture(cfg: Config, db_path: Path, duration: float | None = None,
                stop: threading.Event | None = None) -> CaptureSummary:
    """Capture until SIGINT/SIGTERM, ``stop`` being set, or ``duration`` seconds have passed."""
    from deskscribe.capture.engine import Engine

    engine = Engine(cfg, db_path)
    if stop is not None:  # an outside stop (tests, embedding) ends the engine's wait too
        def relay(outside: threading.Event) -> None:
            outside.wait()
            engine.stop_event.set()

        threading.Thread(target=relay, args=(stop,), daemon=True).start()
    previous = _install_signals(engine)
    try:
        engine.start()
        engine.stop_event.wait(duration)
    finally:
        log.info("stopping capture")
        engine.shutdown()
        _restore_signals(previous)
    summary = CaptureSummary(engine.status.frames, len(engine.status.episodes))
    log.info("stored %d frames in %d episodes", summary.frames, summary.episodes)
    if engine.status.fatal is not None:
        raise DatabaseError(f"capture stopped after {summary.frames} frames: {engine.status.fatal}")
    return summary


def _install_signals(engine: Any) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    handlers = {
        signal.SIGINT: lambda *_: engine.stop_event.set(),
        signal.SIGTERM: lambda *_: engine.stop_event.set(),
    }
    if hasattr(signal, "SIGUSR1"):
        handlers[signal.SIGUSR1] = lambda *_: engine.pause()
        handlers[signal.SIGUSR2] = lambda *_: engine.resume()
    return {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
