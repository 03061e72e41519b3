"""Child processes the app supervises: capture, and describe/export jobs that report JSON-line progress.

Everything runs in a ``QProcess``, so the GUI thread never waits on work; output arrives through signals.
A job prints one JSON object per line on stdout: ``{"done": 3, "total": 10, "episode": 42, "message": "…"}``.
Exit code 0 = all done, 1 = some items failed, anything else = the command itself failed (its last
``Error: …`` line on stderr says why).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from deskscribe.child import deskscribe_command

log = logging.getLogger(__name__)


def last_error_line(text: str) -> str:
    """The most useful line of a failed command's stderr: its last ``Error:`` line, else its last line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.startswith("Error:"):
            return line[len("Error:"):].strip()
    return lines[-1] if lines else ""


class JsonProgressProcess(QObject):
    """Runs one job and turns its JSON progress lines into signals."""

    progress = Signal(int, int, str)  # done, total, message
    finished = Signal(int, str)  # exit code (-1 = crashed or could not start), error line

    def __init__(self, args: list[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.args = args
        self.done = 0
        self.total = 0
        self.message = ""
        self._stdout = b""
        self._stderr = b""
        self._reported = False
        self.proc = QProcess(self)
        self.proc.readyReadStandardOutput.connect(self._read_stdout)
        self.proc.readyReadStandardError.connect(self._read_stderr)
        self.proc.finished.connect(self._finished)
        self.proc.errorOccurred.connect(self._error)

    def start(self) -> None:
        log.info("starting %s", " ".join(self.args))
        self.proc.start(self.args[0], self.args[1:])

    def is_running(self) -> bool:
        return self.proc.state() != QProcess.ProcessState.NotRunning

    def cancel(self) -> None:
        """SIGTERM: the job stops after the current item; what it finished is kept."""
        if self.is_running():
            self.proc.terminate()

    def wait(self, msecs: int) -> bool:
        """Block until the job exits (only for quitting)."""
        return self.proc.waitForFinished(msecs)

    def _read_stdout(self) -> None:
        self._stdout += bytes(self.proc.readAllStandardOutput().data())
        *lines, self._stdout = self._stdout.split(b"\n")
        for line in lines:
            self._handle_line(line.decode("utf-8", "replace").strip())

    def _handle_line(self, line: str) -> None:
        if not line:
            return
        try:
            msg = json.loads(line)
            done, total = int(msg.get("done", 0)), int(msg.get("total", 0))
        except (ValueError, TypeError, AttributeError):
            log.info("job output: %s", line)
            return
        self.done, self.total, self.message = done, total, str(msg.get("message") or "")
        self.progress.emit(done, total, self.message)

    def _read_stderr(self) -> None:
        chunk = bytes(self.proc.readAllStandardError().data())
        self._stderr = (self._stderr + chunk)[-20_000:]

    def error_text(self) -> str:
        return last_error_line(self._stderr.decode("utf-8", "replace"))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        if self._stdout:
            self._handle_line(self._stdout.decode("utf-8", "replace").strip())
            self._stdout = b""
        self._read_stderr()
        crashed = status == QProcess.ExitStatus.CrashExit
        self._report(-1 if crashed else code, self.error_text() or ("the job was stopped" if crashed else ""))

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._report(-1, f"could not start {self.args[0]}: {self.proc.errorString()}")

    def _report(self, code: int, error: str) -> None:
        if self._reported:
            return
        self._reported = True
        log.info("job %s exited %s %s", self.args[3:5], code, error)
        self.finished.emit(code, error)


class CaptureProcess(QObject):
    """The ``deskscribe capture`` child: started with the tray, stopped with SIGTERM when it quits."""

    exited = Signal(int, bool, str)  # exit code, expected (we asked it to stop), last error line

    def __init__(self, log_path: Path | None = None, args: list[str] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.args = args or deskscribe_command("capture")
        self.log_path = log_path
        self._stopping = False
        self._restart = False
        self._started_at = 0.0
        self.proc = QProcess(self)
        self.proc.finished.connect(self._finished)
        self.proc.errorOccurred.connect(self._error)

    def is_running(self) -> bool:
        return self.proc.state() != QProcess.ProcessState.NotRunning

    def pid(self) -> int | None:
        return (int(self.proc.processId()) or None) if self.is_running() else None

    def running_for(self) -> float:
        """Seconds since this child was started (0 when it is not running)."""
        return time.monotonic() - self._started_at if self.is_running() else 0.0

    def start(self) -> None:
        if self.is_running():
            return
        self._stopping = False
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.proc.setStandardOutputFile(str(self.log_path), QProcess.OpenModeFlag.Append)
            self.proc.setStandardErrorFile(str(self.log_path), QProcess.OpenModeFlag.Append)
        log.info("starting capture: %s", " ".join(self.args))
        self._started_at = time.monotonic()
        self.proc.start(self.args[0], self.args[1:])

    def stop(self, wait_ms: int = 5000) -> None:
        """SIGTERM, then wait (capture closes its episode and commits); SIGKILL only if it hangs."""
        if not self.is_running():
            return
        self._stopping = True
        self.proc.terminate()
        if wait_ms and not self.proc.waitForFinished(wait_ms):
            log.warning("capture did not stop within %d ms; killing it", wait_ms)
            self.proc.kill()
            self.proc.waitForFinished(1000)

    def restart(self) -> None:
        """SIGTERM now, start again once it has exited (without blocking the GUI)."""
        if not self.is_running():
            self.start()
            return
        self._stopping = self._restart = True
        self.proc.terminate()

    def _tail_error(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as fh:
            fh.seek(max(0, fh.seek(0, 2) - 4000))
            return last_error_line(fh.read().decode("utf-8", "replace"))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        expected = self._stopping
        if self._restart:
            self._restart = False
            log.info("capture exited with %s; starting it again", code)
            QTimer.singleShot(0, self.start)
            return
        if status == QProcess.ExitStatus.CrashExit and not expected:
            code = -1
        log.info("capture exited with %s (expected: %s)", code, expected)
        self.exited.emit(code, expected, "" if expected else self._tail_error())

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.exited.emit(-1, False, f"could not start capture: {self.proc.errorString()}")
