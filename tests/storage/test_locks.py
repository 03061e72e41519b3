"""The one file lock: a second holder is refused with the first one's pid; a dead holder frees it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from deskscribe.errors import DeskscribeError
from deskscribe.storage.locks import FileLock, LockBusy

HOLDER = """
import sys
from pathlib import Path
from deskscribe.storage.locks import FileLock
lock = FileLock(Path(sys.argv[1]))  # kept referenced: a collected lock closes its file
lock.acquire()
print("locked", flush=True)
sys.stdin.read()  # hold the lock until killed
"""


def test_a_second_holder_is_refused_with_the_pid_then_gets_it_after_release(tmp_path):
    path = tmp_path / "run" / "x.lock"
    first = FileLock(path)
    first.acquire()
    assert path.read_text() == str(os.getpid())
    with pytest.raises(LockBusy) as refused:
        FileLock(path).acquire()
    assert refused.value.pid == str(os.getpid())
    assert isinstance(refused.value, DeskscribeError)
    first.release()
    with FileLock(path) as again:
        assert again.held
    assert not again.held


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "x.lock"
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
            with pytest.raises(LockBusy) as refused:
                FileLock(path).acquire()
            assert refused.value.pid == str(proc.pid)
        finally:
            proc.kill()
            proc.wait()
    with FileLock(path):
        assert path.read_text() == str(os.getpid())
